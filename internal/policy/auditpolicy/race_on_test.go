//go:build race

package auditpolicy

// raceEnabled: the race detector slows the evaluator ~10x; the heaviest
// property test samples its probes under it.
const raceEnabled = true
