package logql

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRegexPrefilterSets(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want string // literals joined by |, "" for no prefilter
		fold bool
	}{
		{`(AKIA|ASIA)[0-9A-Z]{16}`, "AKIA|ASIA", false},
		{`-----BEGIN ((RSA|EC) )?PRIVATE KEY`, "-----BEGIN EC PRIVATE KEY|-----BEGIN PRIVATE KEY|-----BEGIN RSA PRIVATE KEY", false},
		{`gh[pousr]_[A-Za-z0-9]{36}`, "ghp_|gho_|ghu_|ghs_|ghr_", false},
		{`(?i:(password|token|api_?key)[a-z_-]{0,20})\s*[:=]`, "password|token|api_key|apikey", true},
		{`xox[abposr]-[0-9A-Za-z-]{10,}|AIza[0-9A-Za-z_-]{35}`, "AIza|xoxa-|xoxb-|xoxp-|xoxo-|xoxs-|xoxr-", false},
		{`"sourceIPs":\["(10\.|192\.168\.)`, `"sourceIPs":["10.|"sourceIPs":["192.168.`, false},
		{`^/api/v1/namespaces/[^/]+/pods$`, "/api/v1/namespaces/", false},
		{`a+b*`, "", false},   // one byte: gates nothing
		{`.*`, "", false},     // no literal at all
		{`x|.*y?`, "", false}, // an alternative with none
		{`(foo)?bar`, "bar", false},
		{`(?i)secret`, "secret", true},
		{`(?i)Ωmega`, "", false}, // non-ASCII folding is not handled
	} {
		p := newRegexPrefilter(tc.expr)
		got := ""
		if p != nil {
			var ls []string
			for _, l := range p.lits {
				ls = append(ls, string(l))
			}
			slices.Sort(ls)
			got = strings.Join(ls, "|")
		}
		want := strings.Split(tc.want, "|")
		slices.Sort(want)
		if got != strings.Join(want, "|") || (p != nil && p.fold != tc.fold) {
			t.Errorf("%s: prefilter %q (fold %v), want %q (fold %v)", tc.expr, got, p != nil && p.fold, strings.Join(want, "|"), tc.fold)
		}
	}
}

// prefilterRegexps are expressions like the built-in pack's line filters.
var prefilterRegexps = []string{
	`(AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}|-----BEGIN ((RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|gh[pousr]_[A-Za-z0-9]{36}|glpat-[A-Za-z0-9_-]{20}|xox[abposr]-[0-9A-Za-z-]{10,}|AIza[0-9A-Za-z_-]{35}|(?i:(password|passwd|secret|token|api_?key|access_?key)[a-z_-]{0,20})\\?"?\s*[:=]\s*\\?"?[A-Za-z0-9+/_=.-]{32,}`,
	`"sourceIPs":\["(10\.|172\.(1[6-9]|2[0-9]|3[01])\.|192\.168\.|127\.)`,
	`"privileged":\s*true`,
	`"hostPath":\{"path":"(/|/etc|/proc|/var/run)(/[^"]*)?"`,
	`(?i)(stratum\+(tcp|ssl)://|xmrig|minerd)`,
	`"verbs":\[[^\]]*"\*"`,
	`kubernetes\.io(/|%2F)serviceaccount|serviceaccount(/|%2F)token`,
}

// TestRegexPrefilterNeverRejectsAMatch: on lines made to match (and
// random mutations of them, case changes, non-ASCII letters that fold
// onto ASCII), a line the expression matches always passes the prefilter.
func TestRegexPrefilterNeverRejectsAMatch(t *testing.T) {
	lines := []string{
		`{"data":{"k":"AKIAABCDEFGHIJKLMNOP"}}`, `-----BEGIN RSA PRIVATE KEY-----`, `-----BEGIN PRIVATE KEY`,
		`tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`,
		`ghp_` + strings.Repeat("a", 36), `glpat-` + strings.Repeat("b", 20), `xoxb-123456789012`, `AIza` + strings.Repeat("c", 35),
		`"PASSWORD": "` + strings.Repeat("Z", 40) + `"`, `"Api_Key=` + strings.Repeat("q", 33), `"ToKen":"` + strings.Repeat("x", 32),
		"to\u212Aen: " + strings.Repeat("x", 32), // the Kelvin sign folds to k
		"\u017Fecret=" + strings.Repeat("y", 32), // long s folds to s
		`"sourceIPs":["10.0.0.1"]`, `"sourceIPs":["172.20.1.1"]`, `"privileged": true`, `"hostPath":{"path":"/etc/kubernetes"}`,
		`STRATUM+TCP://pool`, `XMRig`, `"verbs":["get","*"]`, `exec?command=cat+%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get"}`,
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	mutate := func(s string) string {
		b := []rune(s)
		for range 1 + rnd.IntN(3) {
			i := rnd.IntN(len(b))
			switch rnd.IntN(3) {
			case 0:
				b[i] = []rune("aZ09_-:=\"\\ .K\u212A")[rnd.IntN(14)]
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				if 'a' <= b[i] && b[i] <= 'z' {
					b[i] -= 32
				}
			}
			if len(b) == 0 {
				break
			}
		}
		return string(b)
	}
	checked := 0
	for _, expr := range prefilterRegexps {
		re := regexp.MustCompile(expr)
		p := newRegexPrefilter(expr)
		if p == nil {
			t.Errorf("%s: no prefilter", expr)
			continue
		}
		for _, l := range lines {
			for k := range 200 {
				line := l
				if k > 0 {
					line = mutate(l)
				}
				if re.MatchString(line) {
					checked++
					if !p.mayMatch([]byte(line)) {
						t.Errorf("%s: matches %q, the prefilter said no", expr, line)
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d matching lines checked", checked)
	}
}

func FuzzRegexPrefilter(f *testing.F) {
	for _, e := range prefilterRegexps {
		f.Add(e, `"PASSWORD": "`+strings.Repeat("Z", 40)+`"`)
	}
	f.Add(`(?i)to(k|x)en\d+`, "TOKEN1")
	f.Add(`a(b|cd)?e{2,}`, "xxabeee")
	f.Fuzz(func(t *testing.T, expr, line string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		if p := newRegexPrefilter(expr); p != nil && re.MatchString(line) && !p.mayMatch([]byte(line)) {
			t.Fatalf("%q matches %q, the prefilter said no (%q)", expr, line, p.lits)
		}
	})
}

// TestPairScanAgreesWithSearch: the one-pass search of many literals
// answers as a search for each literal does (on the lowered line when
// folding; a fold set says "maybe" on a line outside ASCII), at the
// start, the end and the middle of lines made of the literals' pieces.
func TestPairScanAgreesWithSearch(t *testing.T) {
	sets := []struct {
		lits []string
		fold bool
	}{
		{[]string{"akia", "asia", "-----begin ", ".eyj", "ho_", "hp_", "xoxa-", "password", "passwd", "secret", "token", "api_key", "apikey"}, true},
		{[]string{"AKIA", "ASIA", "AGPA", "glpat-", "xoxb-", "AIza", "\"ab", "ab"}, false},
		{[]string{"aa", "aaa", "ab"}, false},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	checked, found := 0, 0
	for _, set := range sets {
		var lits [][]byte
		for _, l := range set.lits {
			lits = append(lits, []byte(l))
		}
		ps := newPairScan(lits, set.fold)
		pieces := []string{" ", "\"", ":", "a", "A", "k", "I", "-", "_", "x", "é"}
		for _, l := range set.lits {
			pieces = append(pieces, l, l[:len(l)-1], l[1:], strings.ToUpper(l))
		}
		for range 20000 {
			var sb strings.Builder
			for range rng.IntN(8) {
				sb.WriteString(pieces[rng.IntN(len(pieces))])
			}
			line := []byte(sb.String())
			want := false
			if set.fold && !isASCII(line) {
				want = true
			} else {
				hay := line
				if set.fold {
					hay = bytes.ToLower(line)
				}
				for _, l := range lits {
					want = want || bytes.Contains(hay, l)
				}
			}
			if got := ps.contains(line); got != want {
				t.Fatalf("%q (fold %v) in %q: %v, want %v", set.lits, set.fold, line, got, want)
			}
			checked++
			if want {
				found++
			}
		}
	}
	if found < checked/10 || found > checked*9/10 {
		t.Fatalf("%d of %d lines hold a literal: the test lines are too one-sided", found, checked)
	}
}
