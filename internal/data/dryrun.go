package data

import (
	"bytes"
	"strings"

	"github.com/audittui/audittui/internal/data/logql"
)

// Server-side dry runs (KEP-576): `kubectl --dry-run=server`, `kubectl
// diff`, `helm --dry-run=server` and GitOps diffing send ordinary writes
// that ask the API server to run admission and validation and answer as
// if the change had been made, without storing it. The API server audits
// them as any request (200, 201), so the only sign of one is the option:
//
//   - create, update and patch read it from the query: ?dryRun=All in
//     requestURI;
//   - delete and deletecollection read their options from the body when
//     the client sent one (kubectl and client-go always do: a
//     DeleteOptions, which the API server logs as requestObject at the
//     Request level, "dryRun":["All"]), else from the query. With a body,
//     the query is not read at all.
//
// Event.DryRun is set once, when the event is decoded, by dryRunOf; every
// consumer reads it (history, the TUI, the schema's dryRun field). The
// LogQL that Loki's ruler evaluates to the same answer is DryRunStage (a
// label, for queries) and DryRunFilter (label filters, for the rule
// pack); tests compare all of them over generated events.
//
// The definition never calls a request that changed something a dry run
// (an attacker can shape the URI, not what the API server does with it):
//
//   - the parameter counts only written as the API server reads it: a
//     query pair "dryRun" or "dryRun=VALUE", VALUE without ";" (Go drops
//     a pair with a semicolon) or "%" (a bad escape drops it too). Any
//     value counts: "All" is the only valid one, another is refused
//     (400), so nothing is stored either way. A percent-encoded key
//     (dry%52un) is a dry run to the API server and not here: reported as
//     a change, the safe side;
//   - connect requests (exec, attach, portforward, proxy) ignore the
//     option and run; a TokenRequest (serviceaccounts/token) ignores it
//     and issues the token: never dry runs;
//   - a delete whose body was logged is a dry run only by its body; one
//     without a logged body only at the Request level or above, where the
//     API server would have logged a body had there been one. At the
//     Metadata level a delete with ?dryRun=All may have carried a body
//     without dryRun (and deleted the object): it is reported as a delete.
//     kubectl's own dry-run deletes (dryRun in the body) are seen only at
//     the Request level.

// DryRunLabel is the schema's derived field: "true" for a dry run, absent
// otherwise.
const DryRunLabel = "dryRun"

// DryRunURIRegex matches a requestURI whose query asks for a dry run, as
// a LogQL label matcher (anchored at both ends): a pair "dryRun" or
// "dryRun=VALUE" with no ";" or "%" in VALUE. uriAsksDryRun is the same
// test in Go.
const DryRunURIRegex = `(?s)[^?]*\?(.*&)?dryRun(=[^&;%]*)?(&.*)?`

// dryRunBodyPath is the JSON expression of a delete body's dry-run option
// (a DeleteOptions' dryRun list), and dryRunBodyLabel the label the LogQL
// forms extract it under.
const (
	dryRunBodyPath  = "requestObject.dryRun[0]"
	dryRunBodyLabel = "requestObject_dryRun"
)

// dryRunVerbs are the writes that take a dry-run option; dryRunDeletes
// those that may read it from their body. dryRunIgnored are the
// subresources whose requests run whatever the option says.
const (
	dryRunVerbs   = "create|update|patch|delete|deletecollection"
	dryRunDeletes = "delete|deletecollection"
	dryRunIgnored = "exec|attach|portforward|proxy|token"
	// bodyLevels are the audit levels that log a request body.
	bodyLevels = "Request|RequestResponse"
)

var dryRunKey, escapeMark = []byte("dryRun"), []byte(`\u`)

// dryRunOf decides Event.DryRun (see the package comment above). It costs
// a switch on the verb for reads, and a scan of the URI for writes; the
// line is read only for a delete that logged a body.
func dryRunOf(e *Event) bool {
	del := false
	switch e.Verb {
	case "create", "update", "patch":
	case "delete", "deletecollection":
		del = true
	default:
		return false
	}
	switch e.Subresource {
	case "exec", "attach", "portforward", "proxy", "token":
		return false
	}
	if !del {
		return uriAsksDryRun(e.RequestURI)
	}
	line := e.EntryLine()
	// The body is read only when the line names dryRun (a key spelled
	// with an escape, which LogQL's JSON expression would read too,
	// needs \u).
	if e.HasRequestObject && (bytes.Contains(line, dryRunKey) || bytes.Contains(line, escapeMark)) {
		if v, _ := logql.ExtractJSONPath(line, dryRunBodyPath); v != "" {
			return true
		}
	}
	if e.Level != "Request" && e.Level != "RequestResponse" || !uriAsksDryRun(e.RequestURI) {
		return false
	}
	if e.HasRequestObject {
		// A body was logged: the API server read the options from it,
		// not from the query.
		if k, _ := logql.ExtractJSONPath(line, "requestObject.kind"); k != "" {
			return false
		}
	}
	return true
}

// uriAsksDryRun reports whether uri's query has a pair "dryRun" or
// "dryRun=VALUE" with no ";" or "%" in VALUE (DryRunURIRegex).
func uriAsksDryRun(uri string) bool {
	i := strings.IndexByte(uri, '?')
	if i < 0 {
		return false
	}
	q := uri[i+1:]
	if !strings.Contains(q, "dryRun") {
		return false
	}
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		rest, ok := strings.CutPrefix(pair, "dryRun")
		if !ok {
			continue
		}
		if rest == "" || rest[0] == '=' && !strings.ContainsAny(rest, ";%") {
			return true
		}
	}
	return false
}

// DryRunStage is the LogQL that makes the dryRun label ("true" for a dry
// run) after `| json`, in audittui and in Loki alike: a JSON expression
// for a delete body's option, then a label_format template that decides
// as dryRunOf does. The schema's dryRun field is reached with it:
//
//	{job="audit"} | json | <DryRunStage> | dryRun="true"
func DryRunStage() string {
	return "json " + dryRunBodyLabel + "=" + quoteLogQL(dryRunBodyPath) + " | label_format " + DryRunLabel + "=`" + dryRunTemplate + "`"
}

// dryRunTemplate is the label_format template of DryRunStage (Go
// text/template, as Loki's: and/or evaluate lazily, eq takes several
// values, a missing label is "").
var dryRunTemplate = `{{ if and (eq .verb ` + tmplAlts(dryRunVerbs) + `) (not (eq .objectRef_subresource ` + tmplAlts(dryRunIgnored) + `))` +
	` (or (and (eq .verb ` + tmplAlts(dryRunDeletes) + `) .` + dryRunBodyLabel + `)` +
	` (and .requestURI (eq (regexReplaceAll "^(?:` + strings.ReplaceAll(DryRunURIRegex, `\`, `\\`) + `)$" .requestURI "") "")` +
	` (or (not (eq .verb ` + tmplAlts(dryRunDeletes) + `)) (and (not .requestObject_kind) (eq .level ` + tmplAlts(bodyLevels) + `))))) }}true{{ end }}`

// tmplAlts writes an alternation (a|b) as the template arguments "a" "b".
func tmplAlts(alts string) string {
	return `"` + strings.ReplaceAll(alts, "|", `" "`) + `"`
}

// DryRunFilter returns LogQL pipeline stages, for after `| json`, that
// keep the events that are not dry runs (keep true) or only those that
// are (keep false), deciding as dryRunOf does with label filters Loki's
// ruler evaluates. The built-in rule pack writes them as ${not_dry_run}
// and ${only_dry_run}.
func DryRunFilter(keep bool) string {
	body := "| json " + dryRunBodyLabel + "=" + quoteLogQL(dryRunBodyPath) + " "
	uri := quoteLogQL(DryRunURIRegex)
	if keep {
		// Not a write, or a subresource without dry runs, or neither
		// the body's option (deletes) nor the query's (where it counts).
		return body + `| (verb !~ "` + dryRunVerbs + `" or objectRef_subresource =~ "` + dryRunIgnored + `"` +
			` or (verb !~ "` + dryRunDeletes + `" or ` + dryRunBodyLabel + ` = "")` +
			` and (requestURI !~ ` + uri + ` or verb =~ "` + dryRunDeletes + `" and (requestObject_kind != "" or level !~ "` + bodyLevels + `")))`
	}
	return body + `| verb =~ "` + dryRunVerbs + `" | objectRef_subresource !~ "` + dryRunIgnored + `"` +
		` | (verb =~ "` + dryRunDeletes + `" and ` + dryRunBodyLabel + ` != ""` +
		` or requestURI =~ ` + uri + ` and (verb !~ "` + dryRunDeletes + `" or requestObject_kind = "" and level =~ "` + bodyLevels + `"))`
}

// DryRunUnproven reports whether e is a delete whose query asks for a dry
// run at a level that cannot show whether the API server read it: at the
// Metadata level (or without a level) a body, which the API server reads
// instead of the query, is not recorded. Such a delete is no dry run here
// (Event.DryRun is false: it may have deleted the object); history and
// the TUI say why.
func DryRunUnproven(e *Event) bool {
	if e.DryRun || e.Verb != "delete" && e.Verb != "deletecollection" || e.Level == "Request" || e.Level == "RequestResponse" {
		return false
	}
	switch e.Subresource {
	case "exec", "attach", "portforward", "proxy", "token":
		return false
	}
	return uriAsksDryRun(e.RequestURI)
}
