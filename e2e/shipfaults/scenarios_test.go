package shipfaults

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRotateRenameUnderLoad: lumberjack rotation (audit.log renamed to
// audit-<time>.log, a new audit.log created; with --audit-log-compress the
// backup is gzipped a moment later) about once a second under load,
// VictoriaLogs and versitygw as sinks.
func TestRotateRenameUnderLoad(t *testing.T) {
	t.Parallel()
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, lokiVictoriaLogs, WriterOptions{
				Rate: pick(2000, 5000), RotateBytes: pick[int64](3<<19, 20<<20), Rotation: RenameCreate, Compress: gz,
			})
			e.w.Write(200)
			e.startShip()
			e.w.Start()
			time.Sleep(pick(5*time.Second, 120*time.Second))
			r := e.finish(0)
			e.checkTargets(r)
		})
	}
}

// TestRotateCopyTruncateUnderLoad: logrotate's copytruncate under load,
// with logrotate's numbered backups (audit.log.1, audit.log.2.gz, ...) and
// with the apiserver's backup names (audit-<time>.log, gzipped a moment
// later). Every fourth truncation, a few events are written between the
// copy and the truncate: those are in no file ship can read and are
// excused (ship should count their bytes in
// audittui_ship_unrecoverable_bytes_total when it notices them).
func TestRotateCopyTruncateUnderLoad(t *testing.T) {
	t.Parallel()
	for _, rot := range []Rotation{CopyTruncateNumbered, CopyTruncateTimed} {
		name := map[Rotation]string{CopyTruncateNumbered: "logrotate-numbered", CopyTruncateTimed: "apiserver-names"}[rot]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, lokiVictoriaLogs, WriterOptions{
				Rate: pick(2000, 5000), RotateBytes: pick[int64](3<<19, 20<<20), Rotation: rot, Compress: true,
				WindowEvery: 4, WindowEvents: 5,
			})
			e.excused = func(ev Event) bool { return ev.Window }
			e.w.Write(200)
			e.startShip()
			e.w.Start()
			time.Sleep(pick(6*time.Second, 120*time.Second))
			r := e.finish(0)
			e.checkTargets(r)
			windowBytes, windowMissing := 0, 0
			for _, s := range r.Sinks {
				if s.Excused > windowMissing {
					windowMissing = s.Excused
				}
			}
			for _, ev := range e.w.Events() {
				if ev.Window {
					windowBytes += ev.Bytes
				}
			}
			r.Set("window_events_written", float64(countEvents(e.w.Events(), func(ev Event) bool { return ev.Window })))
			r.Set("window_bytes_written", float64(windowBytes))
			if m := e.final; m != nil {
				if v, ok := e.metric(r, m, "audittui_ship_unrecoverable_bytes_total"); ok && windowMissing > 0 && v == 0 {
					r.Notef("%d events written between copy and truncate never arrived; unrecoverable_bytes_total is 0", windowMissing)
				}
			}
		})
	}
}

func countEvents(evs []Event, f func(Event) bool) int {
	n := 0
	for _, ev := range evs {
		if f(ev) {
			n++
		}
	}
	return n
}

// TestRetentionWhileDown: ship stops (SIGTERM) with its checkpoint in the
// live file; while it is down more events are written, the file rotates
// several times (gzipped backups) and the checkpointed backup is deleted
// (--audit-log-maxbackup). On restart ship must ship every newer backup,
// oldest first, then the live file, and report the deleted one as a gap
// (audittui_ship_gap_files_total and one ERROR). The events of the
// deleted file that ship had not read are excused.
func TestRetentionWhileDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, lokiStandIn, WriterOptions{Rate: pick(2000, 5000), Rotation: RenameCreate, Compress: true})
	e.w.Write(200)
	e.startShip()
	e.w.Start()
	time.Sleep(pick(3*time.Second, 20*time.Second))
	e.stopWriter()
	if !e.waitDelivered(60*time.Second, 15*time.Second) {
		t.Fatal("events written before the stop were not all delivered")
	}
	if code, err := e.ship.Stop(30 * time.Second); err != nil || code != 0 {
		t.Fatalf("ship stop: exit %d, %v", code, err)
	}

	// Down: unshipped lines in the checkpointed file, then rotations.
	// Only the unshipped lines of the deleted file are excused.
	downFrom := len(e.w.Events())
	e.excused = func(ev Event) bool { return ev.Deleted && ev.Seq >= downFrom }
	per := pick(1500, 20000)
	must(t, e.w.Write(per/2))
	for range pick(4, 8) {
		must(t, e.w.Rotate())
		must(t, e.w.Write(per))
	}
	e.stopWriter()
	deleted, seg, err := e.w.DeleteOldestBackup()
	must(t, err)
	lost := countEvents(e.w.Events(), func(ev Event) bool { return ev.Seg == seg })
	t.Logf("deleted %s (file generation %d, %d events, %d of them written while ship was down); backups left: %v",
		filepath.Base(deleted), seg, lost, per/2, baseNames(e.w.Backups()))

	e.startShip()
	e.w.Start()
	time.Sleep(pick(2*time.Second, 10*time.Second))
	r := e.finish(0)
	r.Notef("deleted while down: %s with %d events not yet shipped", filepath.Base(deleted), per/2)
	e.checkTargets(r)
	if m := e.final; m != nil {
		if v, ok := e.metric(r, m, "audittui_ship_gap_files_total"); ok && v != 1 {
			e.fail(r, "audittui_ship_gap_files_total = %v, want 1 (one checkpointed file deleted)", v)
		}
	}
	var gapErrors int
	for _, rec := range e.logRecords(2, "ERROR") {
		if strings.Contains(strings.ToLower(fmt.Sprint(rec)), "checkpoint") {
			gapErrors++
		}
	}
	if gapErrors != 1 {
		e.fail(r, "restart logged %d ERROR records about the lost checkpointed file, want 1", gapErrors)
	}
}

func baseNames(ps []string) []string {
	var out []string
	for _, p := range ps {
		out = append(out, filepath.Base(p))
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCatchUp: ship falls more than one rotation behind and catches up,
// once because one push in three fails, once after the Loki stand-in was
// down for a while (longer than several rotations). Nothing may be
// missing or duplicated (no crash here), and files must be read oldest
// first.
func TestCatchUp(t *testing.T) {
	t.Parallel()
	t.Run("one-push-in-three-fails", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, lokiStandIn, WriterOptions{
			Rate: pick(3000, 5000), RotateBytes: pick[int64](1<<20, 10<<20), Rotation: RenameCreate, Compress: true,
		})
		// A failed push costs Min_backoff (500ms, as in deploy/ship.yaml):
		// with 128K batches and one push in three failing, Loki takes
		// under 1 MB/s, well below the writer's rate, so ship falls
		// several rotations behind, then catches up after the writer
		// stops.
		e.cfg.LokiBatchSize = "128K"
		e.cfg.LokiMinBackoff, e.cfg.LokiMaxBackoff = "500ms", "5m"
		e.standIn.FailEvery(3)
		e.w.Write(200)
		e.startShip()
		e.w.Start()
		time.Sleep(pick(5*time.Second, 60*time.Second))
		e.stopWriter()
		behind := e.w.Rotations()
		r := e.finish(0)
		r.Set("rotations_written", float64(behind))
		e.checkTargets(r)
	})
	t.Run("after-outage", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, lokiStandIn, WriterOptions{
			Rate: pick(2000, 5000), RotateBytes: pick[int64](1<<20, 20<<20), Rotation: RenameCreate, Compress: true,
		})
		e.w.Write(200)
		e.startShip()
		e.w.Start()
		time.Sleep(2 * time.Second)
		must(t, e.standIn.Down(true))
		rot := e.w.Rotations()
		time.Sleep(pick(6*time.Second, 60*time.Second))
		must(t, e.standIn.Down(false))
		during := e.w.Rotations() - rot
		t.Logf("Loki stand-in was down for %d rotations", during)
		time.Sleep(pick(3*time.Second, 20*time.Second))
		r := e.finish(0)
		r.Set("rotations_during_outage", float64(during))
		e.checkTargets(r)
	})
}

// TestKill9Loop kills ship with SIGKILL again and again under load, while
// the Loki stand-in holds every acknowledgement for a while after storing
// the push (so kills land between dispatch and acknowledgement), with
// rotation going on. Nothing may be missing; each crash may re-send at
// most one batch per sink.
func TestKill9Loop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, lokiStandIn, WriterOptions{
		Rate: pick(3000, 5000), RotateBytes: pick[int64](4<<20, 20<<20), Rotation: RenameCreate, Compress: true,
	})
	e.standIn.Delay(300 * time.Millisecond)
	e.w.Write(200)
	e.w.Start()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 12))
	kills := pick(10, 20)
	for range kills {
		e.startShip()
		time.Sleep(time.Duration(500+rng.IntN(1500)) * time.Millisecond)
		must(t, e.ship.Kill9())
	}
	// The last run delivers the rest at full speed.
	e.standIn.Delay(0)
	e.startShip()
	time.Sleep(time.Second)
	r := e.finish(kills)
	e.checkTargets(r)
}

// TestHugeLines writes audit events of 15 to 20 MiB (ConfigMaps holding
// bundles) among normal traffic, with deploy/ship.yaml's Mem_Buf_Limit
// 16M and Max_line_size 16M, to the Loki stand-in with Loki's default
// 256KB line limit and to versitygw. What ship holds in memory (its live
// Go heap, read after every garbage collection:
// audittui_ship_go_heap_live_peak_bytes, sampled from /metrics) must stay
// within its Go memory limit, Mem_Buf_Limit + 12 MiB + Upload_chunk_size
// (gzip). Lines over Max_line_size must be in the overflow file
// (State_dir/overlong-lines.jsonl), lines Loki refuses in the dead-letter
// file; everything else delivered. The resident set is reported, not
// checked (see the bound below).
func TestHugeLines(t *testing.T) {
	// Not t.Parallel: it runs before the scenarios that run side by side
	// (doc.go), so the heap bound below is measured without them.
	e := newEnv(t, lokiStandIn, WriterOptions{Rate: 200, Rotation: RenameCreate})
	e.standIn.MaxLine(LokiMaxLineSize)
	e.cfg.MemBufLimit, e.cfg.MaxLineSize = "16M", "16M"
	e.w.Write(200)
	e.startShip()
	e.w.Start()
	sizes := []int{15 << 20, 20 << 20, 15<<20 + 512<<10, 19 << 20, 15 << 20}
	if long {
		sizes = append(sizes, 17<<20, 15<<20, 20<<20, 16<<20-4096, 18<<20)
	}
	for _, n := range sizes {
		time.Sleep(500 * time.Millisecond)
		must(t, e.w.WriteHuge(n))
	}
	time.Sleep(2 * time.Second)
	e.stopWriter()
	// What ship accounts for: over-long lines in the overflow file (for
	// both sinks), lines Loki refused in the dead-letter file.
	e.account = func() {
		overflow := e.idsInFile(filepath.Join(e.cfg.StateDir, "overlong-lines.jsonl"))
		e.rejected[sinkS3] = overflow
		e.rejected[sinkLoki] = e.idsInFile(e.cfg.LokiDeadLetterFile)
		for s := range overflow {
			e.rejected[sinkLoki][s] = true
		}
	}
	r := e.finish(0)
	// The bound is on the live heap, what ship holds, and it is ship's Go
	// memory limit itself: Mem_Buf_Limit + 12 MiB + Upload_chunk_size (8
	// MiB with gzip). Held: Mem_Buf_Limit of lines read and not yet
	// acknowledged (a 15 MiB line takes 15 of the 16), the buffer an S3
	// part is compressed into, and what is of fixed size (the runtime's
	// own structures, compressor state, read buffers, HTTP clients, a Loki
	// push being encoded): 5.5-6 MiB at load 14. The live heap a
	// collection reports also counts what was allocated while it marked,
	// so it creeps up when marking is slow: 29.5-31.9 MiB in 15 runs at
	// load averages 14 to 24 on 2 cores. A live heap at the limit leaves
	// the collector no room at all: memory would then grow with no bound.
	// A huge line held in memory where it should be spooled or sent to the
	// overflow file adds its size (15-20 MiB).
	//
	// The resident set is not the measure: the Go limit is soft, and with
	// the live heap within 6 MiB of it the collector runs back to back; on
	// a loaded machine it is starved of CPU, its CPU limiter lets the heap
	// grow past the limit, and RssAnon went past the limit + 4 MiB that
	// this test used to check (40.8 and 40.9 MiB of 40 in 2 of 3 runs at
	// load 16, review J5 item 2, with the live heap at 30.2 and 30.7 MiB).
	// It is reported, and noted when over that.
	goLimit := int64(16<<20) + 12<<20 + 8<<20
	r.Set("heap_live_limit_bytes", float64(goLimit))
	e.checkTargets(r)
	live := int64(r.Values["peak_audittui_ship_go_heap_live_peak_bytes"])
	switch {
	case live == 0:
		e.fail(r, "audittui_ship_go_heap_live_peak_bytes was never scraped above 0")
	case live > goLimit:
		e.fail(r, "live heap peaked at %.1f MiB, past the Go memory limit Mem_Buf_Limit + 12 MiB + Upload_chunk_size = %.0f MiB (resident: anonymous %.1f MiB, VmHWM %.1f MiB)",
			float64(live)/(1<<20), float64(goLimit)/(1<<20), float64(r.PeakAnon)/(1<<20), float64(r.PeakRSS)/(1<<20))
	}
	if r.PeakAnon > goLimit+4<<20 {
		r.Notef("anonymous resident memory %.1f MiB went more than 4 MiB past the Go memory limit (%.0f MiB), a soft limit: a collector starved of CPU lets the heap past it",
			float64(r.PeakAnon)/(1<<20), float64(goLimit)/(1<<20))
	}
	checkOverLong(e, r, 16<<20)
	checkDeadLetterOnlyTooLong(e, r)
}

// checkOverLong: every line longer than Max_line_size is in the overflow
// file, and none that fits.
func checkOverLong(e *env, r *Report, maxLine int) {
	e.t.Helper()
	overflow := e.idsInFile(filepath.Join(e.cfg.StateDir, "overlong-lines.jsonl"))
	for _, ev := range e.w.Events() {
		if ev.Bytes-1 > maxLine && !overflow[ev.Seq] {
			e.fail(r, "event %d (%d bytes, over Max_line_size) is not in the overflow file", ev.Seq, ev.Bytes)
		}
		if ev.Bytes-1 <= maxLine && overflow[ev.Seq] {
			e.fail(r, "event %d (%d bytes, within Max_line_size) went to the overflow file", ev.Seq, ev.Bytes)
		}
	}
	if fi, err := os.Stat(filepath.Join(e.cfg.StateDir, "overlong-lines.jsonl")); err == nil {
		r.Set("overflow_file_bytes", float64(fi.Size()))
	}
}

// checkDeadLetterOnlyTooLong: a 400 for one over-long line must not
// dead-letter the good lines pushed with it.
func checkDeadLetterOnlyTooLong(e *env, r *Report) {
	e.t.Helper()
	dead := e.idsInFile(e.cfg.LokiDeadLetterFile)
	good, long := 0, 0
	for _, ev := range e.w.Events() {
		if !dead[ev.Seq] {
			continue
		}
		if ev.Bytes-1 > LokiMaxLineSize {
			long++
		} else {
			good++
		}
	}
	r.Set("dead_lettered_too_long", float64(long))
	r.Set("dead_lettered_good_lines", float64(good))
	if good > 0 {
		e.fail(r, "%d lines within Loki's 256KB limit were dead-lettered with the over-long ones (a 400 must not dead-letter a whole batch)", good)
	}
}

// TestLokiLineLimit: lines over Loki's default 256KB max_line_size among
// normal traffic. The stand-in behaves as Loki's distributor does: it
// stores the valid entries of a push and answers 400 naming the too-long
// one. Good lines must be delivered once and not dead-lettered; the
// too-long ones must be accounted for (dead-letter file).
func TestLokiLineLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, lokiStandIn, WriterOptions{Rate: 1000, Rotation: RenameCreate})
	e.standIn.MaxLine(LokiMaxLineSize)
	e.w.Write(200)
	e.startShip()
	e.w.Start()
	for range pick(6, 30) {
		time.Sleep(500 * time.Millisecond)
		must(t, e.w.WriteHuge(300<<10))
	}
	time.Sleep(time.Second)
	e.stopWriter()
	// Over-long lines in the dead-letter file are accounted for.
	e.account = func() {
		dead := e.idsInFile(e.cfg.LokiDeadLetterFile)
		e.rejected[sinkLoki] = map[int]bool{}
		for _, ev := range e.w.Events() {
			if ev.Huge && dead[ev.Seq] {
				e.rejected[sinkLoki][ev.Seq] = true
			}
		}
	}
	r := e.finish(0)
	e.checkTargets(r)
	checkDeadLetterOnlyTooLong(e, r)
}

// readyTimeoutOption is ship's option for issue 12's "/readyz fails when a
// sink has not acknowledged for a configurable time" (the name this suite
// proposed).
const readyTimeoutOption = "Ready_ack_timeout"

// TestHealthDuringLokiOutage checks what ship says about itself while the
// Loki stand-in is down and reading is frozen (small Mem_Buf_Limit), then
// while checkpoints cannot be saved (State_dir replaced by a file):
// /readyz fails after the configured time, audittui_ship_backpressure is 1
// while reading is frozen, lag (bytes and seconds) and the time of the
// last acknowledged push per sink tell how far behind ship is, and all of
// it recovers.
func TestHealthDuringLokiOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, lokiStandIn, WriterOptions{Rate: 2000, Rotation: RenameCreate})
	readyAfter := 3 * time.Second
	e.cfg.Extra = map[string]string{readyTimeoutOption: readyAfter.String()}
	r := &Report{Scenario: e.name, Started: e.started}
	e.t.Cleanup(func() {
		r.Runs, r.PeakRSS, r.PeakAnon, r.Duration = e.ship.Starts(), e.ship.PeakRSS(), e.ship.PeakAnon(), time.Since(e.started)
		r.Written = len(e.w.Events())
		t.Log("\n" + r.Table())
		if err := r.Save(artifacts(t)); err != nil {
			t.Errorf("save report: %v", err)
		}
	})
	e.w.Write(200)
	e.writeConfig()
	if err := e.ship.Start(); err != nil {
		if !strings.Contains(err.Error(), readyTimeoutOption) {
			t.Fatal(err)
		}
		e.fail(r, "ship does not accept the option %s (the configurable /readyz timeout issue 12 asks for): %s",
			readyTimeoutOption, firstLine(e.ship.LogTail(1)))
		delete(e.cfg.Extra, readyTimeoutOption)
		e.startShip() // measure the rest without it
	}
	if !e.waitDelivered(30*time.Second, 10*time.Second) {
		t.Fatal("the first events were not delivered")
	}
	e.w.Start()
	time.Sleep(2 * time.Second)
	expectReady(e, r, http.StatusOK, "before the outage", 5*time.Second)

	// Outage: reading freezes once Mem_Buf_Limit is full.
	outage := time.Now()
	must(t, e.standIn.Down(true))
	frozen := waitFrozen(e, 30*time.Second)
	r.Set("seconds_until_reading_froze", time.Since(outage).Seconds())
	if !frozen {
		e.fail(r, "reading did not freeze within 30s of the outage (Mem_Buf_Limit %s)", e.cfg.MemBufLimit)
	}
	m, err := e.ship.Metrics()
	must(t, err)
	if v, ok := e.metric(r, m, "audittui_ship_backpressure"); ok {
		r.Set("backpressure_while_frozen", v)
		if v <= 0 {
			e.fail(r, "audittui_ship_backpressure = %v while reading is frozen by the outage, want 1", v)
		}
	}
	if v, ok := e.metric(r, m, "audittui_ship_lag_bytes"); ok {
		r.Set("lag_bytes_while_frozen", v)
		if v <= 0 {
			e.fail(r, "audittui_ship_lag_bytes = %v while the file grows and reading is frozen", v)
		}
	}
	if v, ok := e.metric(r, m, "audittui_ship_lag_seconds"); ok {
		r.Set("lag_seconds_while_frozen", v)
		if v < 1 {
			e.fail(r, "audittui_ship_lag_seconds = %v after %v of outage", v, time.Since(outage).Round(time.Second))
		}
	}
	if v, ok := e.metric(r, m, "audittui_ship_last_ack_timestamp_seconds", "sink", sinkLoki); ok {
		r.Set("loki_last_ack_age_seconds_while_frozen", float64(time.Now().UnixNano())/1e9-v)
		if v > float64(outage.Add(time.Second).UnixNano())/1e9 {
			e.fail(r, "audittui_ship_last_ack_timestamp_seconds{sink=loki} = %v is after the outage began (%v)", v, outage.Unix())
		}
	}
	// Without the option (ship does not know it yet) this still shows
	// whether /readyz ever notices the outage.
	expectReady(e, r, http.StatusServiceUnavailable, "during the outage", readyAfter+5*time.Second)
	code, _ := e.ship.Healthz()
	r.Set("healthz_during_the_outage", float64(code))
	if code != http.StatusOK {
		r.Notef("/healthz answers %d during the outage", code)
	}

	// Recovery.
	must(t, e.standIn.Down(false))
	recovered := time.Now()
	time.Sleep(2 * time.Second)
	e.stopWriter()
	if !e.waitDelivered(90*time.Second, 20*time.Second) {
		e.fail(r, "ship did not catch up after the outage")
	}
	expectReady(e, r, http.StatusOK, "after the outage", 10*time.Second)
	m, err = e.ship.Metrics()
	must(t, err)
	if v, ok := e.metric(r, m, "audittui_ship_lag_bytes"); ok && v != 0 {
		e.fail(r, "audittui_ship_lag_bytes = %v after everything was delivered", v)
	}
	if v, ok := e.metric(r, m, "audittui_ship_last_ack_timestamp_seconds", "sink", sinkLoki); ok && v < float64(recovered.Unix()) {
		e.fail(r, "audittui_ship_last_ack_timestamp_seconds{sink=loki} = %v, before the recovery (%v)", v, recovered.Unix())
	}
	if v, ok := e.metric(r, m, "audittui_ship_backpressure"); ok && v != 0 {
		e.fail(r, "audittui_ship_backpressure = %v after the outage", v)
	}

	// Checkpoints cannot be saved: State_dir becomes a file.
	moved := e.cfg.StateDir + ".moved"
	must(t, os.Rename(e.cfg.StateDir, moved))
	must(t, os.WriteFile(e.cfg.StateDir, []byte("not a directory\n"), 0o640))
	must(t, e.w.Write(500))
	expectReady(e, r, http.StatusServiceUnavailable, "while checkpoints cannot be saved", readyAfter+5*time.Second)
	must(t, os.Remove(e.cfg.StateDir))
	must(t, os.Rename(moved, e.cfg.StateDir))
	must(t, e.w.Write(100))
	expectReady(e, r, http.StatusOK, "after checkpoints can be saved again", readyAfter+10*time.Second)
	if code, err := e.ship.Stop(30 * time.Second); err != nil || code != 0 {
		e.fail(r, "ship stop: exit %d, %v", code, err)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// expectReady polls /readyz until it answers want (within d).
func expectReady(e *env, r *Report, want int, when string, d time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	var code int
	var err error
	for {
		code, err = e.ship.Readyz()
		if err == nil && code == want {
			r.Set("readyz_"+strings.ReplaceAll(when, " ", "_"), float64(code))
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.Set("readyz_"+strings.ReplaceAll(when, " ", "_"), float64(code))
	e.fail(r, "/readyz %s: got %d (%v), want %d within %v", when, code, err, want, d)
}

// waitFrozen waits until ship stops reading (lines_read_total unchanged
// for two seconds) while the writer keeps writing.
func waitFrozen(e *env, d time.Duration) bool {
	deadline := time.Now().Add(d)
	last, since := -1.0, time.Now()
	for time.Now().Before(deadline) {
		m, err := e.ship.Metrics()
		if err == nil {
			v, _ := m.Get("audittui_ship_lines_read_total")
			if v != last {
				last, since = v, time.Now()
			} else if time.Since(since) >= 2*time.Second {
				return true
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return false
}
