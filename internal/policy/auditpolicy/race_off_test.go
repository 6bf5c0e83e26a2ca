//go:build !race

package auditpolicy

const raceEnabled = false
