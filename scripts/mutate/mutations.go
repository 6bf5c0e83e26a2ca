package main

// Mutation is one named, deliberate bug: Old (which must occur exactly
// once in File) becomes New. Every guard must catch it (some test of the
// guard fails): a mutation that more than one package guards lists each,
// so each is proved to guard it on its own.
//
// Alt holds the same bug written for another version of the code (a
// rewrite on a branch not merged yet): exactly one of File/Old/New and the
// Alt edits must apply, so the mutation keeps working across the merge and
// still fails loudly when none does. Drop the edit that no longer applies
// once the rewrite is in.
type Mutation struct {
	Name   string
	What   string // the bug, in words
	File   string
	Old    string
	New    string
	Alt    []Edit
	Guards []Guard
}

// Edit is one exact source edit: Old, found exactly once in File, becomes New.
type Edit struct {
	File, Old, New string
}

// Guard is a go test run: a package and, optionally, a -run expression
// (to keep slow packages to the tests that concern the mutation).
type Guard struct {
	Pkg string
	Run string
}

func (g Guard) String() string {
	if g.Run == "" {
		return g.Pkg
	}
	return g.Pkg + " -run " + g.Run
}

var (
	logqlPkg  = Guard{Pkg: "./internal/data/logql"}
	uiPkg     = Guard{Pkg: "./internal/ui"}
	rulesPkg  = Guard{Pkg: "./internal/policy/rules"}
	policyPkg = Guard{Pkg: "./internal/policy/auditpolicy"}
	tailPkg   = Guard{Pkg: "./internal/tail"}
	shipPkg   = Guard{Pkg: "./internal/ship"}
	// The kill -9 test whose sinks acknowledge late, on its own: the
	// at-least-once mutations must be caught across a real crash too, not
	// only by the in-process tests.
	shipKill  = Guard{Pkg: "./internal/ship", Run: "^TestKill9LateAcks$"}
	termPkgs  = Guard{Pkg: "./internal/termsafe/..."}
	dataPkg   = Guard{Pkg: "./internal/data"}
	livePkg   = Guard{Pkg: "./internal/ui/live", Run: "^TestRecycledBatchesChangeNothing$"}
	filePkg   = Guard{Pkg: "./internal/data/source/file"}
	evidPkg   = Guard{Pkg: "./internal/evidence"}
	casePkg   = Guard{Pkg: "./internal/casefile"}
	servePkg  = Guard{Pkg: "./internal/serve"}
	queryCLI  = Guard{Pkg: "./internal/cli/query"}
	evidCLI   = Guard{Pkg: "./internal/cli/evidence"}
	policyCLI = Guard{Pkg: "./internal/cli/policy"}
	histPkg   = Guard{Pkg: "./internal/history"}
	histCLI   = Guard{Pkg: "./internal/cli/history"}
	cmdutil   = Guard{Pkg: "./internal/cli/cmdutil"}
	// Where a sink that was ahead of the checkpoint resumes, on real files.
	shipAhead = Guard{Pkg: "./internal/ship", Run: "^TestAheadSink"}
	shipStop  = Guard{Pkg: "./internal/ship", Run: "^TestShutdownTakesOneGracePeriod$"}
	lokiStop  = Guard{Pkg: "./internal/ship/lokisink", Run: "^TestNoPushStartedThatTheGracePeriodCannotFinish$"}
)

// mutations: the critical paths of DESIGN.md's invariants. When the code
// a mutation edits is rewritten, TestEveryMutationApplies (make test) and
// make mutate fail naming it, and the mutation is re-anchored to the new
// code (the bug it names stays the same).
var mutations = []Mutation{
	// At-least-once: the checkpoint moves past a line only when every sink
	// has acknowledged it.
	{
		Name: "ship/checkpoint-on-dispatch",
		What: "the checkpoint moves to a batch's end when it is handed to the sinks, before any acknowledgement",
		File: "internal/ship/tracker.go",
		Old:  "\tt.batches[b.Seq] = tr\n",
		New: "\tt.batches[b.Seq] = tr\n" +
			"\tt.pos, t.havePos = checkpoint.Position{Position: b.End, EventTime: b.LastTime}, true\n\tt.version++\n",
		Guards: []Guard{shipPkg, shipKill},
	},
	{
		Name:   "ship/ack-by-one-sink",
		What:   "a batch counts as delivered once one sink (of Loki and S3) has acknowledged it",
		File:   "internal/ship/tracker.go",
		Old:    `sent: make([]bool, len(t.sinks)), left: len(t.sinks)}`,
		New:    `sent: make([]bool, len(t.sinks)), left: 1}`,
		Guards: []Guard{shipPkg, shipKill},
	},
	// A sink that was ahead before a restart skips only what it had.
	{
		Name:   "ship/ahead-sink-same-inode",
		What:   "a sink that was ahead takes a file with its position's device and inode for its file whatever the content (copytruncate keeps the inode): it skips the first lines of the truncated file",
		File:   "internal/ship/tracker.go",
		Old:    "\tif a.FPLen == 0 || p.FPLen == 0 {\n\t\treturn a.Dev == p.Dev && a.Ino == p.Ino\n\t}",
		New:    "\tif a.Dev == p.Dev && a.Ino == p.Ino || a.FPLen == 0 || p.FPLen == 0 {\n\t\treturn a.Dev == p.Dev && a.Ino == p.Ino\n\t}",
		Guards: []Guard{shipAhead},
	},
	{
		Name:   "ship/ahead-sink-trusts-gz-mtime",
		What:   "a sink that was ahead takes a backup compressed with a new time for one rotated after its file: it re-sends up to where it was",
		File:   "internal/ship/tracker.go",
		Old:    "b.End.ModTime >= p.ModTime && !(s.found && isGzip(b.End.Path)):",
		New:    "b.End.ModTime >= p.ModTime:",
		Guards: []Guard{shipAhead},
	},
	{
		Name:   "ship/ahead-sink-forgets-its-file",
		What:   "a sink that was ahead, at the end of its file, does not note that it has passed it: a compressed backup after it is skipped (lost for that sink)",
		File:   "internal/ship/tracker.go",
		Old:    "case s.reached || p.ModTime == 0",
		New:    "case p.ModTime == 0",
		Guards: []Guard{shipAhead},
	},
	// A stop fits in Grace_period (then kubelet's SIGKILL comes).
	{
		Name:   "ship/grace-period-twice",
		What:   "the sinks' flush gets a grace period of its own after handing them the batches read took one: a stop takes up to twice Grace_period",
		File:   "internal/ship/ship.go",
		Old:    "\t<-dispatched\n\tfor _, ch := range chans {",
		New:    "\t<-dispatched\n\tgraceEnd.Reset(c.GracePeriod.D())\n\tfor _, ch := range chans {",
		Guards: []Guard{shipStop},
	},
	{
		Name:   "ship/loki-push-past-grace",
		What:   "while ship stops, the Loki sink starts a push that cannot be answered before the grace period ends: cancelled after Loki stored it, it is sent again after the restart",
		File:   "internal/ship/lokisink/lokisink.go",
		Old:    "\t\t\tif !s.inTime() {",
		New:    "\t\t\tif false && !s.inTime() {",
		Guards: []Guard{lokiStop},
	},
	// Order and duplicates never change an answer.
	{
		Name: "rules/dedup-off",
		What: "a line sent twice (an at-least-once shipper after a crash) counts twice",
		File: "internal/policy/rules/dedup.go",
		Old: `	if _, dup := set[k]; dup {
		return false
	}`,
		New: `	if _, dup := set[k]; dup && false {
		return false
	}`,
		Guards: []Guard{rulesPkg},
	},
	{
		Name:   "rules/dedup-ignores-series",
		What:   "the duplicate filter keys a contribution by the line and rule only: one line feeding two series of a rule counts once",
		File:   "internal/policy/rules/dedup.go",
		Old:    `	h.WriteString(series)`,
		New:    `	h.WriteString("")`,
		Guards: []Guard{rulesPkg},
	},
	// Rule evaluation: for and windows.
	{
		Name:   "rules/for-ignored",
		What:   "an alert fires at its first active step, whatever its for",
		File:   "internal/policy/rules/eval.go",
		Old:    `if a.State == StatePending && st.Sub(a.ActiveAt) >= rs.r.For {`,
		New:    `if a.State == StatePending {`,
		Guards: []Guard{rulesPkg},
	},
	{
		Name:   "rules/for-one-step-late",
		What:   "an alert fires one evaluation after its for has elapsed",
		File:   "internal/policy/rules/eval.go",
		Old:    `st.Sub(a.ActiveAt) >= rs.r.For {`,
		New:    `st.Sub(a.ActiveAt) > rs.r.For {`,
		Guards: []Guard{rulesPkg},
	},
	{
		Name:   "rules/window-misses-first-step",
		What:   "an event is not seen by the first evaluation step whose window holds it",
		File:   "internal/policy/rules/engine.go",
		Old:    `	i0 := ceilDiv(t+rs.off, rs.iv)`,
		New:    `	i0 := ceilDiv(t+rs.off, rs.iv) + 1`,
		Guards: []Guard{rulesPkg},
	},
	{
		Name:   "rules/citations-window-wide",
		What:   "an alert cites (and counts) events from one interval before its window",
		File:   "internal/policy/rules/eval.go",
		Old:    `sc.count(a, s-rs.back, s-rs.off)`,
		New:    `sc.count(a, s-rs.back-rs.iv, s-rs.off)`,
		Guards: []Guard{rulesPkg},
	},
	// Rotation identity.
	{
		Name: "tail/identity-ignores-inode",
		What: "a file is the same file when its first bytes match, whatever its device and inode",
		File: "internal/tail/fileid.go",
		Old: `	if dev != id.Dev || ino != id.Ino {
		return false, nil
	}`,
		New: `	if false && (dev != id.Dev || ino != id.Ino) {
		return false, nil
	}`,
		Guards: []Guard{tailPkg},
	},
	{
		Name:   "tail/identity-ignores-fingerprint",
		What:   "a file with the same inode is the same file even when its start was rewritten (copytruncate, inode reuse)",
		File:   "internal/tail/fileid.go",
		Old:    `	return crc64.Checksum(buf, table) == id.FP, nil`,
		New:    `	return true, nil`,
		Guards: []Guard{tailPkg},
	},
	{
		Name: "tail/rotation-unseen",
		What: "the tailer never notices that the path now names another file",
		File: "internal/tail/tail.go",
		// Anchored on the lines before the identity comparison (the same in
		// main and in ship-fixes' rewrite): a path that still exists is
		// taken to name the file being read.
		Old: "\t\t\treturn false, nil // deleted: keep reading the open file until the path returns\n" +
			"\t\t}\n\t\treturn false, fmt.Errorf(\"stat %s: %w\", t.o.Path, err)\n\t}\n",
		New: "\t\t\treturn false, nil // deleted: keep reading the open file until the path returns\n" +
			"\t\t}\n\t\treturn false, fmt.Errorf(\"stat %s: %w\", t.o.Path, err)\n\t}\n" +
			"\tif pfi != nil {\n\t\treturn false, nil\n\t}\n",
		Guards: []Guard{tailPkg},
	},
	{
		Name:   "tail/first-checkpoint-by-inode",
		What:   "a first checkpoint (offset 0, no fingerprint) takes the live file by device and inode alone: after a copytruncate while stopped the copy is never read",
		File:   "internal/tail/tail.go",
		Old:    "\t\treturn st.Offset > 0 || st.ModTime == 0 || fi.ModTime().UnixNano() == st.ModTime, nil",
		New:    "\t\treturn true, nil",
		Guards: []Guard{tailPkg},
	},
	{
		Name:   "tail/short-live-head-is-a-copy",
		What:   "a backup counts as a copy of the live file when they agree over the live file's few first bytes (a partial first write): the backup is skipped",
		File:   "internal/tail/backups.go",
		Old:    "if len(c.head) == 0 || len(liveHead) < len(c.head) || string(liveHead[:len(c.head)]) != string(c.head) {",
		New:    "if n := min(len(c.head), len(liveHead)); n == 0 || string(liveHead[:n]) != string(c.head[:n]) {\n\t\treturn false\n\t}\n\tif true {\n\t\treturn true\n\t}\n\tif false {",
		Guards: []Guard{tailPkg},
	},
	{
		Name:   "tail/deleted-backlog-unreported",
		What:   "a backup listed while the tailer was held and deleted (retention) before it was read is skipped without a gap",
		File:   "internal/tail/pending.go",
		Old:    "\t\tif !present[id] {\n\t\t\tgone = append(gone, t.lag.pending[id])",
		New:    "\t\tif false && !present[id] {\n\t\t\tgone = append(gone, t.lag.pending[id])",
		Guards: []Guard{tailPkg},
	},
	{
		Name:   "tail/no-rotate-wait",
		What:   "a file renamed away is finished at once, though the new file is empty and the writer still writes to the old one (logrotate create, reopen later or never)",
		File:   "internal/tail/tail.go",
		Old:    "\tif pfi.Size() == 0 && t.o.RotateWait > 0 && now.Sub(c.grew) < t.o.RotateWait {",
		New:    "\tif false && pfi.Size() == 0 && t.o.RotateWait > 0 && now.Sub(c.grew) < t.o.RotateWait {",
		Guards: []Guard{tailPkg},
	},
	{
		Name:   "tail/grown-finished-file-ignored",
		What:   "a file read to its end that grew afterwards (a writer that kept writing after the rotation) is not read on",
		File:   "internal/tail/tail.go",
		Old:    "ok && c.info.Size() > f.size {",
		New:    "ok && c.info.Size() < f.size {",
		Guards: []Guard{tailPkg},
	},
	// Untrusted text never reaches the terminal raw.
	{
		Name:   "termsafe/esc-passes",
		What:   "ESC (0x1b) is kept instead of escaped",
		File:   "internal/termsafe/termsafe.go",
		Old:    `	case r < 0x20, r == 0x7f:`,
		New:    `	case r < 0x20 && r != 0x1b, r == 0x7f:`,
		Guards: []Guard{termPkgs, uiPkg},
	},
	{
		Name:   "termsafe/c1-passes",
		What:   "C1 controls (U+0080..U+009F, e.g. the 8-bit CSI) are kept",
		File:   "internal/termsafe/termsafe.go",
		Old:    "	case r <= 0x9f:\n\t\treturn true // C1",
		New:    "	case r <= 0x9f:\n\t\treturn false // C1",
		Guards: []Guard{termPkgs},
	},
	{
		Name:   "termsafe/bidi-passes",
		What:   "the right-to-left override U+202E is kept",
		File:   "internal/termsafe/termsafe.go",
		Old:    `	return unicode.Is(unicode.Cf, r)`,
		New:    `	return unicode.Is(unicode.Cf, r) && r != 0x202e`,
		Guards: []Guard{termPkgs, uiPkg},
	},
	// LogQL operators, guarded by logql's own tests and, on their own, by
	// the TUI's filter tests and the query command's comparison with jq.
	{
		Name:   "logql/ne-as-eq",
		What:   "!= matches like = (label filters and stream matchers)",
		File:   "internal/data/logql/ast.go",
		Old:    "	case MatchNotEqual:\n\t\treturn v != m.Value",
		New:    "	case MatchNotEqual:\n\t\treturn v == m.Value",
		Guards: []Guard{logqlPkg, uiPkg, queryCLI},
	},
	{
		Name:   "data/merge-run-ignores-ties",
		What:   "a merge run goes on past an event tied with another source's head that comes first (ties no longer keep input order)",
		File:   "internal/data/merge.go",
		Old:    "			if t > ot || (t == ot && in.idx > other.idx) {",
		New:    "			if t > ot {",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "data/openall-no-shared-read-ahead",
		What:   "every merged source reads ahead as much as one source alone (memory grows with the number of files)",
		File:   "internal/data/merge.go",
		Old:    "		opts.ChunkBytes = max(minMergeChunk, chunkSize/n)",
		New:    "		opts.ChunkBytes = chunkSize",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "logql/affix-prefix-as-contains",
		What:   "a regexp such as \"system:serviceaccount:.*\" matches the literal anywhere, not only at the start",
		File:   "internal/data/logql/gates.go",
		Old:    "		case a.prefix:\n\t\t\tok = strings.HasPrefix(v, s)",
		New:    "		case a.prefix:\n\t\t\tok = strings.Contains(v, s)",
		Guards: []Guard{logqlPkg},
	},
	{
		Name:   "rules/dispatch-looks-up-nothing",
		What:   "the rules' dispatch looks up no field: every pipeline runs on every event (the cost comes back)",
		File:   "internal/policy/rules/dispatch.go",
		Old:    "		if tested == 0 {\n\t\t\tcontinue",
		New:    "		if tested != 0 {\n\t\t\tcontinue",
		Guards: []Guard{rulesPkg},
	},
	{
		Name:   "rules/render-once",
		What:   "a firing alert's annotations keep the value it fired with",
		File:   "internal/policy/rules/eval.go",
		Old:    "	if a.Labels != nil && math.Float64bits(a.Value) == math.Float64bits(a.renderedValue) {",
		New:    "	if a.Labels != nil && (true || math.Float64bits(a.Value) == math.Float64bits(a.renderedValue)) {",
		Guards: []Guard{rulesPkg},
	},
	{
		Name:   "data/ordered-key-prefix",
		What:   "the decoder's ordered-key fast path takes a key that only starts like the expected one",
		File:   "internal/data/scan.go",
		Old:    "rest[len(w)] == '\"' && rest[len(w)+1] == ':' && string(rest[:len(w)]) == w {",
		New:    "string(rest[:len(w)]) == w {",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "ui/dict-recent-by-length",
		What:   "the index's recent-value cache answers by length alone: values of one length share an id",
		File:   "internal/ui/index.go",
		Old:    "	if id := d.recent[slot]; d.vals[id] == s {",
		New:    "	if id := d.recent[slot]; len(d.vals[id]) == len(s) {",
		Guards: []Guard{uiPkg},
	},
	{
		Name:   "ui/feed-releases-before-the-rules",
		What:   "the feed gives a batch back to its reader before the rules have it",
		File:   "internal/ui/loader.go",
		Old:    "			if f.OnBatch != nil {\n\t\t\t\tf.OnBatch(b)\n\t\t\t}\n",
		New:    "			b.Release()\n\t\t\tif f.OnBatch != nil {\n\t\t\t\tf.OnBatch(b)\n\t\t\t}\n",
		Guards: []Guard{livePkg},
	},
	{
		Name:   "rules/shards-do-not-hold",
		What:   "the rules' shards evaluate a lent batch without holding it",
		File:   "internal/policy/rules/parallel.go",
		Old:    "		it.b.Hold() // each shard releases it when done (run)\n",
		New:    "",
		Guards: []Guard{livePkg},
	},
	{
		Name:   "live/pending-not-held",
		What:   "the batches that wait for the rules to load are not held",
		File:   "internal/ui/live/alerts.go",
		Old:    "			b.Hold() // until the rules are loaded (release)\n",
		New:    "",
		Guards: []Guard{livePkg},
	},
	{
		Name:   "ui/dict-keeps-the-read-buffer",
		What:   "the index's dictionaries keep the event's string, which points into the read buffer",
		File:   "internal/ui/index.go",
		Old:    "		s = string([]byte(s)) // own the memory: event strings alias read buffers\n",
		New:    "",
		Guards: []Guard{livePkg},
	},
	{
		Name:   "rules/replay-releases-before-evaluating",
		What:   "Replay gives a batch back to its reader before evaluating its events",
		File:   "internal/policy/rules/eval.go",
		Old:    "		for i := range b.Events {\n\t\t\te.Push(&b.Events[i])\n\t\t}\n\t\tb.Release()",
		New:    "		b.Release()\n\t\tfor i := range b.Events {\n\t\t\te.Push(&b.Events[i])\n\t\t}",
		Guards: []Guard{rulesPkg},
	},
	{
		Name:   "data/merge-does-not-hold",
		What:   "a merged batch does not hold the batches its events come from",
		File:   "internal/data/merge.go",
		Old:    "			in.b.Hold()\n",
		New:    "",
		Guards: []Guard{dataPkg, livePkg},
	},
	{
		Name:   "query/releases-before-writing",
		What:   "a log query gives a batch back to its reader before writing its events",
		File:   "internal/cli/query/query.go",
		Old:    "		rep.AddUndated(b.Undated, b.UndatedAt)\n\t\tfor i := range b.Events {\n\t\t\te := &b.Events[i]",
		New:    "		rep.AddUndated(b.Undated, b.UndatedAt)\n\t\tb.Release()\n\t\tfor i := range b.Events {\n\t\t\te := &b.Events[i]",
		Guards: []Guard{queryCLI},
	},
	{
		Name:   "data/reader-lines-off-by-one",
		What:   "a reader counts one line more than its input has (a followed file's appended lines are cited a line late)",
		File:   "internal/data/reader.go",
		Old:    "			s.lines.Store(in.line - 1)",
		New:    "			s.lines.Store(in.line)",
		Guards: []Guard{filePkg},
	},
	{
		Name:   "data/escape-arena-overwrites",
		What:   "the decoder's arena for decoded escapes does not advance: the next escaped string overwrites the last",
		File:   "internal/data/scan.go",
		Old:    "	*s.arena = a[:n+len(u)]",
		New:    "	*s.arena = a[:n]",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "logql/nre-as-re",
		What:   "!~ matches like =~",
		File:   "internal/data/logql/ast.go",
		Old:    "	case MatchNotRegexp:\n\t\treturn !m.matchRegexp(v)",
		New:    "	case MatchNotRegexp:\n\t\treturn m.matchRegexp(v)",
		Guards: []Guard{logqlPkg, uiPkg, queryCLI},
	},
	{
		Name:   "logql/ge-as-gt",
		What:   ">= compares like >",
		File:   "internal/data/logql/ast.go",
		Old:    "	case cmpGe:\n\t\treturn a >= b",
		New:    "	case cmpGe:\n\t\treturn a > b",
		Guards: []Guard{logqlPkg, uiPkg, queryCLI},
	},
	{
		Name:   "logql/le-as-lt",
		What:   "<= compares like <",
		File:   "internal/data/logql/ast.go",
		Old:    "	case cmpLe:\n\t\treturn a <= b",
		New:    "	case cmpLe:\n\t\treturn a < b",
		Guards: []Guard{logqlPkg, uiPkg, queryCLI},
	},
	{
		Name:   "logql/num-ne-as-eq",
		What:   "numeric != compares like ==",
		File:   "internal/data/logql/ast.go",
		Old:    "	case cmpNe:\n\t\treturn a != b",
		New:    "	case cmpNe:\n\t\treturn a == b",
		Guards: []Guard{logqlPkg, uiPkg, queryCLI},
	},
	{
		Name:   "logql/line-ne-as-contains",
		What:   "the line filter != keeps the lines that contain the text",
		File:   "internal/data/logql/pipeline.go",
		Old:    `	if f.op == lineNotContains || f.op == lineNotMatch {`,
		New:    `	if f.op == lineNotMatch {`,
		Guards: []Guard{logqlPkg, uiPkg, queryCLI},
	},
	{
		Name:   "logql/parse-ne-as-eq",
		What:   "the parser reads a label filter's != as =",
		File:   "internal/data/logql/parser.go",
		Old:    "\t\tcase tEq, tEqEq:\n\t\t\top = MatchEqual\n\t\tcase tNeq:\n\t\t\top = MatchNotEqual",
		New:    "\t\tcase tEq, tEqEq:\n\t\t\top = MatchEqual\n\t\tcase tNeq:\n\t\t\top = MatchEqual",
		Guards: []Guard{logqlPkg, uiPkg, queryCLI},
	},
	// Audit policy semantics: the rule that decides an event.
	{
		Name: "auditpolicy/last-matching-rule",
		What: "the deciding rule is the last one that matches, not the first",
		File: "internal/policy/auditpolicy/eval.go",
		Old: `			d.Rule = i
			break`,
		New:    `			d.Rule = i`,
		Guards: []Guard{policyPkg, policyCLI},
	},
	{
		Name:   "auditpolicy/subresource-dropped",
		What:   "a request's subresource (pods/exec) is not passed to the policy evaluator",
		File:   "internal/policy/auditpolicy/eval.go",
		Old:    `		Subresource:     e.Subresource,`,
		New:    `		Subresource:     "",`,
		Guards: []Guard{policyPkg},
	},
	{
		Name: "auditpolicy/group-from-apiversion-ignored",
		What: "objectRef apiVersion \"apps/v1\" without apiGroup is read as the core group",
		File: "internal/policy/auditpolicy/eval.go",
		Old: `		if group == "" {
			group = version[:i]
		}`,
		New: `		if false {
			group = version[:i]
		}`,
		Guards: []Guard{policyPkg},
	},
	// The attributes the apiserver evaluated: its RequestInfo of the URL,
	// not objectRef, whose name a create's body fills in afterwards.
	{
		Name:   "auditpolicy/create-named-from-body",
		What:   "a create without subresource is evaluated with objectRef's name (filled in from the body after the apiserver evaluated the policy)",
		File:   "internal/policy/auditpolicy/eval.go",
		Old:    `	if e.Verb == "create" && a.Subresource == "" {`,
		New:    `	if false && e.Verb == "create" && a.Subresource == "" {`,
		Guards: []Guard{policyPkg},
	},
	{
		Name:   "auditpolicy/objectref-over-request-uri",
		What:   "namespace and name come from objectRef as logged, not from the requestURI the apiserver parsed (a Namespace's own get, a list of one object by fieldSelector)",
		File:   "internal/policy/auditpolicy/eval.go",
		Old:    `	if ri.isResource && !ri.bad && ri.resource == a.Resource`,
		New:    `	if false && ri.isResource && !ri.bad && ri.resource == a.Resource`,
		Guards: []Guard{policyPkg},
	},
	// Evidence: a manifest check that reports every change.
	{
		Name:   "evidence/mismatch-ignored",
		What:   "a file whose sha256 differs from the manifest's passes the check",
		File:   "internal/evidence/check.go",
		Old:    `		case got != want[p]:`,
		New:    `		case got != want[p] && false:`,
		Guards: []Guard{evidPkg, evidCLI},
	},
	{
		Name:   "evidence/extra-files-ignored",
		What:   "a file added to an export after it was written passes the check",
		File:   "internal/evidence/check.go",
		Old:    `		if _, ok := want[rel]; !ok {`,
		New:    `		if _, ok := want[rel]; !ok && false {`,
		Guards: []Guard{evidPkg, evidCLI},
	},
	{
		Name:   "evidence/json-disagreement-ignored",
		What:   "MANIFEST.json may disagree with MANIFEST.sha256 on a file's sha256",
		File:   "internal/evidence/check.go",
		Old:    `		} else if sum != e.SHA256 {`,
		New:    `		} else if sum != e.SHA256 && false {`,
		Guards: []Guard{evidPkg},
	},
	{
		Name:   "evidence/path-escape-allowed",
		What:   "a manifest path that leaves the export directory (../) is hashed instead of refused",
		File:   "internal/evidence/check.go",
		Old:    `		if !localPath(path) {`,
		New:    `		if false {`,
		Guards: []Guard{evidPkg},
	},
	// The prefilter never drops a match and never hides bad input.
	{
		Name:   "data/prefilter-skips-implausible",
		What:   "a line without the query's literals is skipped even when it is not a plain audit event (its reject is lost)",
		File:   "internal/data/prefilter.go",
		Old:    `	return p != nil && !p.Match(line) && plausibleEvent(line)`,
		New:    `	return p != nil && !p.Match(line)`,
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "data/prefilter-literal-in-first-half",
		What:   "the prefilter looks for a literal in the first half of the line only (matches are skipped)",
		File:   "internal/data/prefilter.go",
		Old:    `		if !bytes.Contains(line, lit) {`,
		New:    `		if !bytes.Contains(line[:len(line)/2], lit) {`,
		Guards: []Guard{dataPkg, queryCLI},
	},
	{
		Name: "data/plausible-joined-lines",
		What: "two events joined on one line (a partial write) count as one plausible event",
		File: "internal/data/prefilter.go",
		Old: `	if bytes.Index(l[len(eventPrefix):], eventEnd) >= 0 {
		return false
	}`,
		New: `	if bytes.Index(l[len(eventPrefix):], eventEnd) >= 0 && false {
		return false
	}`,
		Guards: []Guard{dataPkg},
	},
	{
		Name: "data/plausible-undated",
		What: "an event without a timestamp counts as plausible (the undated events a time window leaves out go uncounted)",
		File: "internal/data/prefilter.go",
		Old: `	if bytes.Index(l, timestampKey) < 0 && bytes.Index(l, legacyTSKey) < 0 {
		return false
	}`,
		New: `	if bytes.Index(l, timestampKey) < 0 && bytes.Index(l, legacyTSKey) < 0 && false {
		return false
	}`,
		Guards: []Guard{dataPkg},
	},
	// Case files merge without conflict.
	{
		Name:   "casefile/merged-duplicates-kept",
		What:   "a record present in both merged files is kept twice",
		File:   "internal/casefile/casefile.go",
		Old:    `			continue // the same record twice: a merge`,
		New:    `			// mutated: the same record twice is kept twice`,
		Guards: []Guard{casePkg},
	},
	{
		Name:   "casefile/id-conflict-silent",
		What:   "a different record under an id already used is skipped without a problem reported",
		File:   "internal/casefile/casefile.go",
		Old:    `			if !reflect.DeepEqual(normal(c.recs[i]), normal(r)) {`,
		New:    `			if false && !reflect.DeepEqual(normal(c.recs[i]), normal(r)) {`,
		Guards: []Guard{casePkg},
	},
	{
		Name: "casefile/apply-in-file-order",
		What: "records are applied in the order the files list them, not in time order (the latest filter no longer wins after a merge)",
		File: "internal/casefile/state.go",
		Old: `	recs = append([]Record(nil), recs...)
	sortRecords(recs)`,
		New:    `	recs = append([]Record(nil), recs...)`,
		Guards: []Guard{casePkg},
	},
	// serve: public keys only, the authorized ones.
	{
		Name: "serve/unknown-key-accepted",
		What: "a public key that is not in authorized_keys is accepted",
		File: "internal/serve/authkeys.go",
		Old: `	k, ok := a.keys[string(pk.Marshal())]
	return k, ok`,
		New: `	k := a.keys[string(pk.Marshal())]
	return k, true`,
		Guards: []Guard{servePkg},
	},
	{
		Name:   "serve/handshake-accepts-any-key",
		What:   "the SSH handshake accepts any public key (the session's own check still refuses it)",
		File:   "internal/serve/server.go",
		Old:    `	if _, ok := s.keys.Lookup(pk); ok {`,
		New:    `	if _, ok := s.keys.Lookup(pk); ok || pk != nil {`,
		Guards: []Guard{servePkg},
	},
	{
		Name:   "ui/followed-order-dropped-on-growth",
		What:   "a followed file's time order is dropped once a live row comes (rows back in file order)",
		File:   "internal/ui/index.go",
		Old:    "\ts.order, s.rank = ix.order, ix.rank\n",
		New:    "\tif len(ix.order) == ix.n {\n\t\ts.order, s.rank = ix.order, ix.rank\n\t}\n",
		Guards: []Guard{uiPkg},
	},
	{
		Name:   "ui/followed-file-not-sorted",
		What:   "a followed file that is not in time order is never sorted",
		File:   "internal/ui/appfilter.go",
		Old:    "if a.sorting || a.orderChecked || snap.Ordered() {",
		New:    "if a.sorting || a.opts.Follow || a.orderChecked || snap.Ordered() {",
		Guards: []Guard{uiPkg},
	},
	{
		Name:   "ui/dups-bytes-not-compared",
		What:   "an event with the auditID, time and length of an earlier one is taken for its copy without comparing bytes",
		File:   "internal/ui/dups.go",
		Old:    "\t\tif err == nil && bytes.Equal(raw, line) {",
		New:    "\t\tif err == nil && bytes.Equal(raw[:0], line[:0]) {",
		Guards: []Guard{uiPkg},
	},
	{
		Name:   "ui/dups-previous-window-forgotten",
		What:   "a copy in the previous minute of event time is not looked for",
		File:   "internal/ui/dups.go",
		Old:    "\tcase w == d.curWin-1:\n\t\treturn &d.prev\n",
		New:    "\tcase w == d.curWin-1:\n\t\treturn &dupSlots{}\n",
		Guards: []Guard{uiPkg},
	},
	{
		Name:   "ui/dups-no-global-table",
		What:   "an input out of time order keeps only recent rows: a copy far back is kept twice",
		File:   "internal/ui/dups.go",
		Old:    "\t\td.global = true\n",
		New:    "\t\td.global = false\n",
		Guards: []Guard{uiPkg},
	},
	{
		Name:   "query/log-duplicates-printed",
		What:   "a log query prints an exact duplicate line again",
		File:   "internal/cli/query/query.go",
		Old:    "if !q.Matches(e) || dups.Seen(e) {",
		New:    "if !q.Matches(e) {",
		Guards: []Guard{queryCLI},
	},
	{
		Name:   "query/metric-duplicates-counted",
		What:   "a metric query counts an exact duplicate line again",
		File:   "internal/cli/query/metric.go",
		Old:    "\tev.Unique = func(e logql.Entry) bool { return !dups.Seen(e.(*data.Event)) }\n",
		New:    "",
		Guards: []Guard{queryCLI},
	},
	{
		Name:   "query/metric-no-match-hides-rejects",
		What:   "a metric query that matches nothing exits 0 without a word of the lines it rejected or the undated events it left out",
		File:   "internal/cli/query/metric.go",
		Old:    "\t\t\trep.Add(skipped.rejects)\n\t\t\trep.AddUndated(skipped.undated, skipped.undatedAt)\n",
		New:    "\t\t\t_ = skipped\n",
		Guards: []Guard{{Pkg: "./internal/cli/query", Run: "^TestMetricNoMatchReportsInput$"}},
	},
	{
		Name:   "data/dups-horizon-forgets-nothing",
		What:   "a followed query's duplicate filter never forgets (memory grows with the input)",
		File:   "internal/data/dups.go",
		Old:    "\t\t\tdelete(d.minutes, d.keys[0])\n",
		New:    "",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "data/dupline-raw",
		What:   "an event pretty-printed over several lines is identified by its bytes as read, so a `jq .` copy of a log is counted again",
		File:   "internal/data/dups.go",
		Old:    "\t\treturn e.Line // the decoder compacted it already (Line)\n\t}\n\treturn compactJSON(e.Raw)\n",
		New:    "\t}\n\treturn e.Raw\n",
		Guards: []Guard{{Pkg: "./internal/data", Run: "^TestDup"}, {Pkg: "./internal/cli/query", Run: "^TestQueryPrettyCopyOnce$"}},
	},
	{
		Name:   "data/spanslines-trusts-carrier-line",
		What:   "a pretty-printed carrier record (a CloudWatch Logs export) is taken for one line, because its Line (the event inside) differs from Raw in length anyway",
		File:   "internal/data/dups.go",
		Old:    "\treturn e.Carrier == CarrierNone && len(e.Line) == len(e.Raw)\n",
		New:    "\treturn e.Carrier != CarrierNone || len(e.Line) == len(e.Raw)\n",
		Guards: []Guard{{Pkg: "./internal/data", Run: "^TestDupLine$"}},
	},
	{
		Name:   "query/pretty-others-unsaid",
		What:   "query keeps events that have another's auditID, stage and time but other bytes (jq's rewrite of \\u0026) without a word",
		File:   "internal/cli/query/query.go",
		Old:    "\tif n := dups.Others(); n > 0 {\n",
		New:    "\tif n := dups.Others(); n < 0 {\n",
		Guards: []Guard{{Pkg: "./internal/cli/query", Run: "^TestQueryPrettyCopyOnce$"}},
	},
	{
		Name:   "rules/dups-raw-bytes",
		What:   "the alert rules identify a copy by its bytes as read: a `jq .` export beside the log counts every event twice",
		File:   "internal/policy/rules/eval.go",
		Old:    "\t\tline := e.dedup.lineHash(data.DupLine(ev))\n",
		New:    "\t\tline := e.dedup.lineHash(ev.Raw)\n",
		Guards: []Guard{{Pkg: "./internal/cli/alerts", Run: "^TestAlertsPrettyCopyOnce$"}},
	},
	{
		Name:   "ui/dups-pretty-raw",
		What:   "the TUI index identifies a copy by its bytes as read: a `jq .` export beside the log is indexed and counted twice",
		File:   "internal/ui/index.go",
		Old:    "\t\tline := data.DupLine(e)\n",
		New:    "\t\tline := e.Raw\n",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestPrettyCopyIndexedOnce$"}},
	},
	{
		Name:   "ui/dups-compact-length-forgotten",
		What:   "the TUI index forgets the compacted length of a pretty-printed row, so the compact copy read after it is not found",
		File:   "internal/ui/dups.go",
		Old:    "\t\tix.dups.compact[uint32(n)] = uint32(len(line))\n",
		New:    "",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestPrettyCopyIndexedOnce$"}},
	},
	{
		Name:   "logql/contribution-counted-in-one-step",
		What:   "an entry counted from its contribution reaches only the first step whose window holds it",
		File:   "internal/data/logql/metric.go",
		Old:    "\tev.add(&c.st, i0, i1)\n",
		New:    "\tev.add(&c.st, i0, i0+1)\n",
		Guards: []Guard{logqlPkg},
	},
	{
		Name:   "ui/followed-live-lines-sorted",
		What:   "a followed file read in order is sorted later, once live lines come out of order",
		File:   "internal/ui/appfilter.go",
		Old:    "\ta.orderChecked = true\n",
		New:    "",
		Guards: []Guard{uiPkg},
	},
	{
		Name:   "cli/undated-alerts-pass-the-gate",
		What:   "alerts exits 0 when events without a timestamp were never evaluated",
		File:   "internal/cli/alerts/alerts.go",
		Old:    "\trep.AddUndated(int(n), at)\n",
		New:    "\t_, _ = n, at\n",
		Guards: []Guard{{Pkg: "./internal/cli", Run: "^TestJSONLLineFormatAndUndated$"}, {Pkg: "./internal/cli/alerts", Run: "^TestAlertsUndatedAsOtherCommands$"}},
	},
	{
		Name:   "cli/alerts-fail-on-hides-undated",
		What:   "alerts says nothing of the events without a timestamp it could not evaluate when an alert at --fail-on decides the exit status",
		File:   "internal/cli/alerts/alerts.go",
		Old:    "\tinputErr := rep.Err()\n\tif failRank > 0 && worst >= failRank {\n\t\treturn &cmdutil.ExitError{Code: cmdutil.ExitAlerts}\n\t}\n\treturn inputErr\n",
		New:    "\tif failRank > 0 && worst >= failRank {\n\t\treturn &cmdutil.ExitError{Code: cmdutil.ExitAlerts}\n\t}\n\treturn rep.Err()\n",
		Guards: []Guard{{Pkg: "./internal/cli/alerts", Run: "^TestAlertsUndatedAsOtherCommands$"}},
	},
	{
		Name:   "cli/undated-said-twice",
		What:   "the undated events are said twice on stderr: their line, then again in the error that sets the exit status (... not evaluated (see above))",
		File:   "internal/cli/cmdutil/rejects.go",
		Old:    "\t\treturn &ExitError{Code: ExitInputError} // said above\n",
		New:    "\t\treturn &ExitError{Code: ExitInputError, Err: fmt.Errorf(\"%d event(s) without a timestamp %s (see above)\", undated, short)}\n",
		Guards: []Guard{{Pkg: "./internal/cli/alerts", Run: "^TestAlertsUndatedAsOtherCommands$"}},
	},
	{
		Name:   "cli/alerts-quiet-prints-duplicates",
		What:   "alerts -q still prints the duplicate-lines notice",
		File:   "internal/cli/alerts/alerts.go",
		Old:    "\t\trep.AddDuplicates(res.Duplicates, \"the lines that feed a rule\")\n",
		New:    "\t\tif res.Duplicates > 0 {\n\t\t\tfmt.Fprintf(opts.IO.ErrOut, \"audittui: %d duplicate line(s) (identical to one read before) counted once\\n\", res.Duplicates)\n\t\t}\n",
		Guards: []Guard{{Pkg: "./internal/cli/alerts", Run: "^TestAlertsQuietNotices$"}},
	},
	{
		Name:   "cli/duplicates-count-unsaid",
		What:   "query and alerts say 'N duplicate line(s)' without saying that N counts only the lines they checked (the matches, the lines that feed a rule), so it reads as the input's figure",
		File:   "internal/cli/cmdutil/rejects.go",
		Old:    "\treturn fmt.Sprintf(\"%d of %s were duplicates (identical to one read before) and counted once\", n, of)\n",
		New:    "\treturn fmt.Sprintf(\"%d duplicate line(s) (identical to one read before) counted once\", n)\n",
		Guards: []Guard{{Pkg: "./internal/cli/query", Run: "^TestQueryDuplicates"}, {Pkg: "./internal/cli/alerts", Run: "^TestAlertsQuietNotices$"}},
	},
	{
		Name:   "data/window-tally-lines-unadded",
		What:   "what the read window left out of JSON lines is not counted, so a window that leaves everything out goes unsaid",
		File:   "internal/data/reader.go",
		Old:    "\topts.Tally.add(wc)\n\treturn b\n}\n\n// window drops",
		New:    "\treturn b\n}\n\n// window drops",
		Guards: []Guard{{Pkg: "./internal/data", Run: "^TestWindowTally$"}, {Pkg: "./internal/cli", Run: "^TestWindowLeavesEverythingOut$"}},
	},
	{
		Name:   "cli/window-leaves-everything-unsaid",
		What:   "query, alerts and history answer nothing without a word when the window leaves out every event read (an archive read with --since)",
		File:   "internal/cli/cmdutil/sources.go",
		Old:    "\treturn from, to, watchWindow(srcs, from, to, w, s.ios.ErrOut), nil\n",
		New:    "\treturn from, to, srcs, nil\n",
		Guards: []Guard{{Pkg: "./internal/cli", Run: "^TestWindowLeavesEverythingOut$"}},
	},
	{
		Name:   "cli/window-note-despite-events",
		What:   "stderr says the window left everything out although it let events through",
		File:   "internal/cli/cmdutil/window.go",
		Old:    "\tif c.In > 0 || c.Before+c.After == 0 {\n",
		New:    "\tif c.Before+c.After == 0 {\n",
		Guards: []Guard{{Pkg: "./internal/cli/cmdutil", Run: "^TestWindowWatchMessage$"}, {Pkg: "./internal/cli", Run: "^TestWindowLeavesEverythingOut$"}},
	},
	{
		Name:   "cli/query-misspelt-field-unsaid",
		What:   "query runs a label filter on a misspelt field (objectRef_resorce) without the TUI's 'did you mean': an empty answer, silently",
		File:   "internal/cli/query/query.go",
		Old:    "\tfor _, w := range warnings {\n",
		New:    "\tfor _, w := range warnings[:0] {\n",
		Guards: []Guard{{Pkg: "./internal/cli/query", Run: "^TestQueryWarnsOfUnknownField$"}},
	},
	{
		Name:   "data/closest-field-exact-only",
		What:   "the did-you-mean of the TUI and query finds only a field spelt in another case, not one typo away",
		File:   "internal/data/fieldsuggest.go",
		Old:    "\tlimit := max(1, min(3, len(name)/4))\n",
		New:    "\tlimit := 0\n",
		Guards: []Guard{{Pkg: "./internal/cli/cmdutil", Run: "^TestFieldWarnings$"}, {Pkg: "./internal/ui", Run: "^TestUnknownFieldDidYouMean$"}},
	},
	{
		Name:   "cli/query-shorthand-refused",
		What:   "query refuses the TUI filter line's shorthand (objectRef_resource=\"x\" | verb=\"delete\") with 'unknown function \"objectRef_resource\"'",
		File:   "internal/cli/cmdutil/query.go",
		Old:    "\tif t := strings.TrimLeft(q, \" \\t\\r\\n\"); t != \"\" && t[0] != '{' && !startsCall(t) {\n",
		New:    "\tif t := strings.TrimLeft(q, \" \\t\\r\\n\"); false && t != \"\" && t[0] != '{' && !startsCall(t) {\n",
		Guards: []Guard{{Pkg: "./internal/cli/cmdutil", Run: "^TestParseQueryShorthand$"}, {Pkg: "./internal/cli/query", Run: "^TestQueryFilterLineShorthand$"}},
	},
	{
		Name:   "cli/undated-window-exit-0",
		What:   "a window that leaves out undated events exits 0",
		File:   "internal/cli/cmdutil/rejects.go",
		Old:    "\tcase undated > 0:\n",
		New:    "\tcase undated < 0:\n",
		Guards: []Guard{{Pkg: "./internal/cli", Run: "^TestJSONLLineFormatAndUndated$"}},
	},
	{
		Name:   "auditpolicy/undated-matched",
		What:   "policy check counts events without a timestamp in the alert rules' MATCHED and LOST, though the rules never evaluate them",
		File:   "internal/policy/auditpolicy/check.go",
		Old:    "\t\tdets = nil\n",
		New:    "",
		Guards: []Guard{{Pkg: "./internal/cli/policy", Run: "^TestPolicyCheckUndatedNotMatched$"}},
	},
	{
		Name:   "cli/policy-check-undated-unsaid",
		What:   "policy check leaves the events without a timestamp out of the alert rules' counts without a word on stderr, and exits 0",
		File:   "internal/cli/policy/policy.go",
		Old:    "\t\trejects.AddUndated(int(rep.AlertsUndated), rep.AlertsUndatedAt)\n",
		New:    "",
		Guards: []Guard{{Pkg: "./internal/cli/policy", Run: "^TestPolicyCheck(UndatedNotMatched|JSONL)$"}},
	},
	{
		Name:   "cli/csv-citation-without-column",
		What:   "query -o csv cites every event FILE:LINE: the events of an EKS Firehose object or an EventList on one line share one citation",
		File:   "internal/cli/cmdutil/output.go",
		Old:    "strconv.FormatInt(e.Origin.Line, 10), e.Origin.Cite()})",
		New:    "strconv.FormatInt(e.Origin.Line, 10), e.Origin.Source.Name + \":\" + strconv.FormatInt(e.Origin.Line, 10)})",
		Guards: []Guard{{Pkg: "./internal/cli/query", Run: "^TestCSVCitesEachEvent$"}},
	},
	{
		Name:   "cli/range-query-stops-short",
		What:   "a range query without --to ends at the last match's time: the last step never counts the events after it",
		File:   "internal/cli/query/metric.go",
		Old:    "\t\tend = start + (end-start+step-1)/step*step\n",
		New:    "\t\tend = start + (end-start)/step*step\n",
		Guards: []Guard{{Pkg: "./internal/cli/query", Run: "^TestRangeQuery"}},
	},
	{
		Name:   "logql/ip-filter-negation-ignored",
		What:   "label != ip(...) keeps the same lines as = ip(...)",
		File:   "internal/data/logql/ipfilter.go",
		Old:    "\treturn in != f.neg\n",
		New:    "\treturn in\n",
		Guards: []Guard{logqlPkg},
	},
	{
		Name:   "cli/limit-keeps-oldest",
		What:   "query --limit keeps the oldest N matches, not the newest as logcli does",
		File:   "internal/cli/query/query.go",
		Old:    "keep = &keepN{max: opts.Limit, oldest: opts.Forward}",
		New:    "keep = &keepN{max: opts.Limit, oldest: true}",
		Guards: []Guard{{Pkg: "./internal/cli/query", Run: "^TestLimitNewestOrOldest$"}},
	},
	{
		Name:   "live/old-followed-file-creeps",
		What:   "a followed old file's alerts resolve one by one at the clock's pace instead of catching up",
		File:   "internal/ui/live/alerts.go",
		Old:    "\t\t\t\t\t\tpar.CatchUp(now)\n",
		New:    "\t\t\t\t\t\tpar.Advance(now)\n",
		Guards: []Guard{{Pkg: "./internal/ui/live", Run: "^TestFollowedOldFileCatchesUp$"}},
	},
	{
		Name:   "rules/catch-up-ignores-the-clock",
		What:   "CatchUp behaves as Advance: an old input's steps run at the clock's pace",
		File:   "internal/policy/rules/eval.go",
		Old:    "if wm := e.watermark; wm != 0 && e.reorder >= 0 && now.UnixNano()-wm > int64(StaleAfter) {",
		New:    "if wm := e.watermark; false && wm != 0 && e.reorder >= 0 && now.UnixNano()-wm > int64(StaleAfter) {",
		Guards: []Guard{{Pkg: "./internal/policy/rules", Run: "^TestCatchUpRunsAnOldInputsSteps$"}},
	},
	{
		Name:   "rules/last-event-is-window-end",
		What:   "an alert's LastEvent is not the latest event's time",
		File:   "internal/policy/rules/cite.go",
		Old:    "\tb.last = max(b.last, c.t)\n",
		New:    "\tb.last = max(b.last, r)\n",
		Guards: []Guard{{Pkg: "./internal/policy/rules", Run: "^TestCatchUpRunsAnOldInputsSteps$"}},
	},
	// history: every request that touched the object, each one its own
	// row, the gaps said.
	{
		Name:   "history/namespace-own-requests-dropped",
		What:   "a Namespace's history drops its own requests (get, patch, finalize, delete: logged with namespace = its name) while its query still selects them",
		File:   "internal/history/ref.go",
		Old:    "\tif e.Namespace != r.Namespace && (!r.selfNamespaced() || e.Namespace != r.Name) {\n",
		New:    "\tif e.Namespace != r.Namespace {\n",
		Guards: []Guard{histPkg, histCLI},
	},
	{
		Name:   "history/auditid-reuse-merged",
		What:   "lines with the same auditID are merged whatever their verb, user, URI, object and received time (only a stage recorded twice keeps them apart): a create and its body vanish behind another user's request",
		File:   "internal/history/history.go",
		Old:    "k := keyOf(&st.ev)",
		New:    "k := requestKey{}",
		Guards: []Guard{histPkg},
	},
	{
		Name:   "history/recreation-unnoticed",
		What:   "a successful create of an object the log says exists is shown as an unrelated creation diffed against nothing (the missing delete goes unsaid)",
		File:   "internal/history/history.go",
		Old:    "w.setVersion(r, v, !(w.present && w.createdAgain(r, v)))",
		New:    "w.setVersion(r, v, true)",
		Guards: []Guard{histPkg},
	},
	{
		Name:   "history/deletecollection-dropped",
		What:   "a history drops the deletecollection requests of the object's collection (the mass deletion that removed it) while its query still selects them",
		File:   "internal/history/ref.go",
		Old:    "\tif e.Name == \"\" && e.Verb == deleteCollection {\n\t\treturn e.Namespace == r.Namespace\n",
		New:    "\tif e.Name == \"\" && e.Verb == deleteCollection {\n\t\treturn false\n",
		Guards: []Guard{histPkg, histCLI},
	},
	{
		Name:   "history/deletecollection-selector-ignored",
		What:   "a deletecollection whose labelSelector or limit could have left the object out, with no response body to tell, is shown as having deleted it (and ends its existence)",
		File:   "internal/history/collection.go",
		Old:    "\tif len(unsure) > 0 {\n",
		New:    "\tif len(unsure) < 0 {\n",
		Guards: []Guard{histPkg, histCLI},
	},
	{
		Name:   "history/deletecollection-existence-kept",
		What:   "a deletecollection that deleted the object does not end its existence: the next create is called a re-creation with a missing delete",
		File:   "internal/history/history.go",
		Old:    "\t\tcase endsYes:\n\t\t\tw.end(row)\n",
		New:    "\t\tcase endsYes:\n",
		Guards: []Guard{histPkg, histCLI},
	},
	// Done or only tried: a rule about something done counts only requests
	// that succeeded (the refused twins in the fixtures and scenarios).
	{
		Name:   "rules/refused-secret-read-counts-as-read",
		What:   "SecretAccessUnusualUserAgent counts secret reads that were refused (a 403 list with no user agent is 'Secret read by a generic HTTP client')",
		File:   "internal/policy/rules/builtin.yaml",
		Old:    "node-fetch|axios)[-/ ].*)\"\n            | responseStatus_code < 400 [5m])) > 0",
		New:    "node-fetch|axios)[-/ ].*)\" [5m])) > 0",
		Guards: []Guard{{Pkg: "./internal/policy/rules", Run: "^(TestScenarios|TestEveryRuleFiresOnItsFixtureAndNotOnItsTwin)$"}},
	},
	// A deletion is delete or deletecollection.
	{
		Name:   "rules/webhook-deletecollection-unseen",
		What:   "AdmissionWebhookModified's verbs leave out deletecollection: every webhook removed in one request raises nothing critical",
		File:   "internal/policy/rules/builtin.yaml",
		Old:    "verb =~ \"create|update|patch|delete|deletecollection\"",
		New:    "verb =~ \"create|update|patch|delete\"",
		Guards: []Guard{{Pkg: "./internal/policy/rules", Run: "^TestScenarios$"}},
	},
	{
		Name:   "report/old-case-length-unknown",
		What:   "report prints no length for an event of a case recorded before lengths were, though it found the event's bytes when re-reading the sources",
		File:   "internal/cli/report/report.go",
		Old:    "\t\t\te.Length = n\n",
		New:    "",
		Guards: []Guard{{Pkg: "./internal/cli/report", Run: "^TestReportCitesLength$"}},
	},
	{
		Name:   "ui/bookmark-length-unrecorded",
		What:   "a bookmark records the event's citation and sha256 but not the length the Detail shows: the report cannot give the recipe's LEN without re-reading",
		File:   "internal/ui/casefile.go",
		Old:    "Cite: o.Cite(), Length: int64(len(raw)), Source:",
		New:    "Cite: o.Cite(), Source:",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestMemoryCaseThenCase$"}},
	},
	{
		Name:   "report/stdin-read-from-terminal",
		What:   "report reads the case's stdin source from a terminal: it waits on the keyboard, then calls the events NOT FOUND",
		File:   "internal/cli/report/report.go",
		Old:    "\t\tif opts.IO.InTTY { // never read a terminal as evidence\n",
		New:    "\t\tif false { // never read a terminal as evidence\n",
		Guards: []Guard{{Pkg: "./internal/cli/report", Run: "^TestReportStdinCase$"}},
	},
	{
		Name:   "tui/stdin-case-reopened-on-terminal",
		What:   "--case DIR reopens a case read from stdin over a terminal: the TUI reads the keys typed as audit events",
		File:   "internal/cli/tui/case.go",
		Old:    "\t\tif opts.IO == nil || opts.IO.InTTY {\n",
		New:    "\t\tif opts.IO == nil {\n",
		Guards: []Guard{{Pkg: "./internal/cli/tui", Run: "^TestReopenCaseReadFromStdin$"}},
	},
	{
		Name:   "report/given-sources-ignored",
		What:   "report CASE SOURCE... re-reads the case's recorded sources, not the SOURCEs given (moved evidence cannot be checked)",
		File:   "internal/cli/report/report.go",
		Old:    "\t\targs = opts.Args\n",
		New:    "",
		Guards: []Guard{{Pkg: "./internal/cli/report", Run: "^TestReportMovedEvidence$"}},
	},
	{
		Name:   "report/missing-source-stops-the-rest",
		What:   "one source of the case that cannot be opened stops the report from checking the sources that can",
		File:   "internal/cli/report/report.go",
		Old:    "\t\t\tout.sources++\n\t\t\tcontinue\n",
		New:    "\t\t\tout.sources++\n\t\t\treturn\n",
		Guards: []Guard{{Pkg: "./internal/cli/report", Run: "^TestReportMovedEvidence$"}},
	},
	{
		Name:   "ui/detail-shows-carrier",
		What:   "Detail shows the record that carried the event (a CloudWatch Logs event, an AKS record, a GKE LogEntry, a Fluent Bit record) instead of the audit event",
		File:   "internal/ui/detail.go",
		Old:    "d.nodes[k], d.perr[k] = parseJSON(s.ev.EntryLine())",
		New:    "d.nodes[k], d.perr[k] = parseJSON(s.raw)",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestDetailShowsTheCarriedEvent$|^TestGoldenDetailManaged$"}},
	},
	{
		Name:   "ui/detail-time-ignores-zone",
		What:   "Detail's time line is in UTC whatever --local-time says",
		File:   "internal/ui/carrier.go",
		Old:    "\tt := fullTime(ev.Time, loc)\n",
		New:    "\tt := fullTime(ev.Time, time.UTC)\n",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestDetailTimeLine$"}},
	},
	{
		Name:   "ui/header-drops-date",
		What:   "on a narrow screen the header's window loses its date and zone while the tabs keep their long titles",
		File:   "internal/ui/layout.go",
		Old:    "\t\tif dated {\n",
		New:    "\t\tif dated || true {\n",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestHeaderKeepsTheDate$|^TestGoldenAlertsGrouped$"}},
	},
	{
		Name:   "ui/rows-two-digit-year",
		What:   "narrow rows of data spanning years show YY-MM-DD, which reads as DD-MM-YY too",
		File:   "internal/ui/rows.go",
		Old:    "\t\treturn \"2006-01-02 15:04\"\n",
		New:    "\t\treturn \"06-01-02 15:04\"\n",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestYearsShown$"}},
	},
	{
		Name:   "ui/timeline-repeats-subject",
		What:   "a user's Timeline repeats the user on every row, taking the object's room",
		File:   "internal/ui/timeline.go",
		Old:    "\t\tself = t.value",
		New:    "\t\tself = \"\"",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestTimelineRowsLeaveOutTheSubject$"}},
	},
	{
		Name:   "ui/pod-shares-the-account-room",
		What:   "a token's pod shares a narrow USER cell with its account, so neither is readable (sa:…manager (pod…z-x2d2p))",
		File:   "internal/ui/identity.go",
		Old:    "\tcase strings.HasPrefix(person, \"pod \") && aw+3+minPodCells > w:\n",
		New:    "\tcase false:\n",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^(TestUserCell|TestGoldenPeopleBehindIdentities)$"}},
	},
	// Nothing lost silently: a reader that meets a bad row or bad text
	// goes on with the next good one, and says what it skipped.
	{
		Name:   "data/csv-bad-row-takes-the-next",
		What:   "a CSV row whose quote does not close takes the lines encoding/csv read on into (valid rows) with it, unnamed",
		File:   "internal/data/csv.go",
		Old:    "\t\t\t\tlr.replayAfter(start)\n",
		New:    "\t\t\t\tlr.mark()\n",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "data/pretty-garbage-loses-the-rest",
		What:   "text that is not JSON between concatenated pretty objects resyncs as an array element would (a line starting with its first character): the objects after it are lost",
		File:   "internal/data/docs.go",
		Old:    "\treturn r.syntaxError(start, err, topLevel)\n",
		New:    "\treturn r.syntaxError(start, err, false)\n",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "data/bom-mid-file-rejected",
		What:   "a UTF-8 byte order mark at the start of a line (cat a.log b.log) makes the line's event a reject",
		File:   "internal/data/decode.go",
		Old:    "\t\tif depth == 0 && bytes.HasPrefix(doc[s.I:], bomUTF8) {\n",
		New:    "\t\tif false && depth == 0 && bytes.HasPrefix(doc[s.I:], bomUTF8) {\n",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "data/utf16-read-as-utf8",
		What:   "a UTF-16 file (PowerShell >) is read as UTF-8: every line rejected",
		File:   "internal/data/reader.go",
		Old:    "\tif is16, be, bom := utf16Head(head); is16 {\n",
		New:    "\tif is16, be, bom := utf16Head(head); is16 && false {\n",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "data/firehose-one-citation",
		What:   "a framed document's column is dropped: every event of a Firehose object (objects back to back on one line) is cited FILE:1 again, and its sha256 cannot be reproduced from the citation",
		File:   "internal/data/docs.go",
		Old:    "\t\tline: o.Line, col: o.Col, off: o.Offset})\n",
		New:    "\t\tline: o.Line, off: o.Offset})\n",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "data/line-start-not-tracked",
		What:   "the docs reader counts lines but does not move the line's start: the columns of a pretty array's elements (after the first line) are wrong",
		File:   "internal/data/docs.go",
		Old:    "\t\t\tr.lnStart = r.base + int64(r.lnPos+bytes.LastIndexByte(seg, '\\n')+1)\n",
		New:    "\t\t\tr.lnStart = r.base + int64(r.lnPos)\n",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "data/batch-item-column-dropped",
		What:   "the items of an EventList on one line (JSON lines) are all cited at the line, without their columns",
		File:   "internal/data/decode.go",
		Old:    "\t\t\tif io.Col == 1 {\n",
		New:    "\t\t\tif true {\n",
		Guards: []Guard{dataPkg},
	},
	{
		Name:   "ui/index-drops-column",
		What:   "the TUI's index loses a record's column: the Detail and bookmarks cite a Firehose event FILE:1, like every other event of its object",
		File:   "internal/ui/index.go",
		Old:    "Line: s.Line(i), Col: s.linecol.at(i), StreamTime",
		New:    "Line: s.Line(i), StreamTime",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestIndexKeepsCitations$"}},
	},
	{
		Name:   "cmdutil/skipped-range-counts-one-line",
		What:   "a reject that stands for a skipped run of lines (lines 63-256 could not be read) counts as one rejected line in the summary",
		File:   "internal/cli/cmdutil/rejects.go",
		Old:    "\t\tr.n += int(rj.LineCount())\n",
		New:    "\t\tr.n++\n",
		Guards: []Guard{cmdutil},
	},
	{
		Name:   "file/directory-by-name-only",
		What:   "a directory's files are read only when their name says log: node3.txt holding events is skipped without a word",
		File:   "internal/data/source/file/file.go",
		Old:    "if looksLikeLog(e.Name()) || looksLikeAuditContent(p) {",
		New:    "if looksLikeLog(e.Name()) {",
		Guards: []Guard{{Pkg: "./internal/data/source/file", Run: "^TestDirectoryFilesByContent$"}},
	},
	{
		Name:   "cli/raw-ignores-line-format",
		What:   "query's default output prints the events' bytes when the query formats its lines (line_format)",
		File:   "internal/cli/cmdutil/output.go",
		Old:    "\t\tif w.Query != nil && w.Query.FormatsLine() {\n",
		New:    "\t\tif false {\n",
		Guards: []Guard{{Pkg: "./internal/cli/query", Run: "^TestRaw"}},
	},
	{
		Name:   "history/stringdata-kept",
		What:   "a Secret's version keeps stringData as the request wrote it: a stringData patch shows as a new block, data.password unchanged",
		File:   "internal/history/history.go",
		Old:    "\tif w.secret != nil {\n\t\tv = foldStringData(v)\n\t}\n",
		New:    "",
		Guards: []Guard{{Pkg: "./internal/history", Run: "^TestSecretStringDataIsData$"}},
	},
	{
		Name:   "rules/or-gate-first-alternative",
		What:   "the dispatch of an `or` gate looks at its first alternative only: an event passing another side is never offered to the rule",
		File:   "internal/policy/rules/dispatch.go",
		Old:    "if p := rg.alts[j]; a.Accepts(f.vals[p], f.founds[p]) {",
		New:    "if p := rg.alts[j]; j == 0 && a.Accepts(f.vals[p], f.founds[p]) {",
		Guards: []Guard{{Pkg: "./internal/policy/rules", Run: "^TestDispatch"}},
	},
	{
		Name:   "logql/or-gate-through-and",
		What:   "an `and` inside an `or` is taken for an `or`: `(a or (b and c))` gates on a, b or c, which is not a necessary condition",
		File:   "internal/data/logql/gates.go",
		Old:    "\t\t\treturn !f.and && walk(f.l) && walk(f.r)",
		New:    "\t\t\treturn walk(f.l) && walk(f.r)",
		Guards: []Guard{{Pkg: "./internal/data/logql", Run: "^TestGates"}},
	},
	{
		Name:   "logql/pairscan-skips-first",
		What:   "the one-pass literal search of a regexp's prefilter compares a literal one byte late: a ConfigMap holding an AWS key is never looked at by CredentialsInConfigMap",
		File:   "internal/data/logql/regexlits.go",
		Old:    "if hasAt(line, i-1, ps.lits[li], tab) {",
		New:    "if hasAt(line, i, ps.lits[li], tab) {",
		Guards: []Guard{{Pkg: "./internal/data/logql", Run: "Prefilter|PairScan"}},
	},
	{
		Name:   "rules/shared-pipeline-takes-labels",
		What:   "a rule sharing another's pipeline takes that rule's output labels too: SecretReadDaily would fire per SecretReadBurst's grouping",
		File:   "internal/policy/rules/eval.go",
		Old:    "\t\trs.q.ContributeLike(&m.by.contrib, &rs.contrib)\n",
		New:    "\t\trs.contrib = m.by.contrib\n",
		Guards: []Guard{{Pkg: "./internal/policy/rules", Run: "^TestSharedPipelineAnswersAsAlone$"}},
	},
	{
		Name:   "rules/shared-pipeline-splits-family",
		What:   "rules sharing a pipeline are dealt to shards one by one: each shard runs the pipeline again",
		File:   "internal/policy/rules/parallel.go",
		Old:    "\t\t\tif f = byPipe[key]; f == nil {\n\t\t\t\tf = &family{}\n\t\t\t\tbyPipe[key] = f\n\t\t\t}",
		New:    "\t\t\tf = &family{}\n\t\t\t_, _ = key, byPipe",
		Guards: []Guard{{Pkg: "./internal/policy/rules", Run: "^TestSharedPipelineAnswersAsAlone$"}},
	},
	{
		Name:   "rules/combo-cache-keys-first-field",
		What:   "the dispatch caches the primary fields' answer by the status code alone: a pods exec gets the rules a secrets get was offered",
		File:   "internal/policy/rules/dispatch.go",
		Old:    "\t\tc.key = appendPart(c.key, v, found)\n",
		New:    "\t\tif len(c.key) == 0 {\n\t\t\tc.key = appendPart(c.key, v, found)\n\t\t}\n",
		Guards: []Guard{{Pkg: "./internal/policy/rules", Run: "^TestDispatch"}},
	},
	{
		Name:   "data/carrier-inner-record",
		What:   "when records nest, an event is said to be carried by the inner record (a CloudWatch Logs event whose message is a Docker record is named a Docker record), though Raw is the outer one",
		File:   "internal/data/decode.go",
		Old:    "\t\te.Carrier = kind // the outer record's, when records nest\n",
		New:    "\t\tif e.Carrier == CarrierNone {\n\t\t\te.Carrier = kind\n\t\t}\n",
		Guards: []Guard{{Pkg: "./internal/data", Run: "^TestShapesCarrier$"}},
	},
	{
		Name:   "ui/carrier-time-any-record",
		What:   "Detail's time line calls an EKS event's stageTimestamp the LogEntry's timestamp: any carrier is taken for a GKE LogEntry",
		File:   "internal/ui/carrier.go",
		Old:    "if ev.Carrier == data.CarrierLogEntry {",
		New:    "if ev.Carrier != data.CarrierNone {",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestGoldenDetailManaged$|^TestDetailShowsTheCarriedEvent$"}},
	},
	{
		Name:   "ui/carrier-record-shows-event",
		What:   "c in Detail says it shows the carrier record but shows the audit event again",
		File:   "internal/ui/detail.go",
		Old:    "if n := d.carriers[d.cur]; n != nil {",
		New:    "if n := d.nodes[d.cur]; n != nil {",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestDetailCarrierRecord$"}},
	},
	{
		Name:   "ui/carrier-record-raw",
		What:   "c in Detail writes the carrier record's bytes to the terminal as they are: a bidi override or a C1 CSI in a shipper's field reaches the terminal",
		File:   "internal/ui/detail.go",
		Old:    "if n := d.carriers[d.cur]; n != nil {\n\t\t\t\tjl, jc := renderJSON(st, n, d.folded, d.w, d.wrap)\n",
		New:    "if n := d.carriers[d.cur]; n != nil {\n\t\t\t\t_ = n\n\t\t\t\tjl, jc := strings.Split(string(d.stages[d.cur].raw), \"\\n\"), []bool(nil)\n",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestDetailCarrierRecordHostile$"}},
	},
	{
		Name:   "ui/history-verb-column-fixed",
		What:   "the history list's verb column is 13 cells whatever the verbs: deletecollection is cut to deletecollec…",
		File:   "internal/ui/history.go",
		Old:    "l := [5]int{p.c.timeFmt().width(p.w >= 110), min(vw, maxHistVerb), 4, 0, 0}",
		New:    "l := [5]int{p.c.timeFmt().width(p.w >= 110), 13, 4, 0, 0}",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestGoldenHistoryVerbColumn$"}},
	},
	{
		Name:   "ui/history-head-raw-verb",
		What:   "the History pane's request line writes the event's verb and subresource to the terminal raw (an escape sequence in a subresource clears the screen)",
		File:   "internal/ui/history.go",
		Old:    "termsafe.String(verbSub(r))",
		New:    "verbSub(r)",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestHistoryHostileVerb$"}},
	},
	{
		Name:   "ui/timeline-list-two-fifths",
		What:   "the Timeline's users list takes up to two fifths of the screen for its identities: the timeline gets 47 of 80 columns",
		File:   "internal/ui/timeline.go",
		Old:    "id := min(t.idNeed, max(minListID, min(maxListID, t.w/4+4)))",
		New:    "id := min(t.idNeed, max(minListID, t.w*2/5))",
		Guards: []Guard{{Pkg: "./internal/ui", Run: "^TestTimelineUserListWidth$"}},
	},
	{
		Name:   "live/evaluated-in-unset",
		What:   "the Alerts pane never says how long the evaluation took",
		File:   "internal/ui/live/alerts.go",
		Old:    "\t\tst.EvaluatedIn = time.Duration(l.doneIn.Load())\n",
		New:    "",
		Guards: []Guard{{Pkg: "./internal/ui/live", Run: "^TestOpenSharesOneIndexAndOneEvaluation$"}},
	},
}
