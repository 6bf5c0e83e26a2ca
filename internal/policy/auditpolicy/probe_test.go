package auditpolicy

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// TestLintProbesAreWhatCheckEvaluates: lint and check ask the evaluator
// the same questions. Every request lint probes, sent to the apiserver and
// logged as it logs it (requestURI; objectRef from its RequestInfo, with a
// created object's name filled in from the body), comes back from
// Attributes, as policy check evaluates it, with the probe's attributes.
func TestLintProbesAreWhatCheckEvaluates(t *testing.T) {
	forEachDataSet(t, func(t *testing.T, ds dataSet) {
		for _, f := range ds.policies(t) {
			t.Run(filepath.Base(f), func(t *testing.T) { lintProbesAreWhatCheckEvaluates(t, mustLoad(t, f)) })
		}
	})
}

func lintProbesAreWhatCheckEvaluates(t *testing.T, p *Policy) {
	space := p.probeSpace()
	space.identities = space.identities[:2] // who asks changes nothing in the URL
	var probes []probe
	for _, gr := range commonResources {
		probes = append(probes, space.resourceProbes(gr.Group, gr.Resource, commonVerbs)...)
	}
	for _, r := range p.API.Rules {
		for _, g := range r.Resources {
			for _, res := range g.Resources {
				if !strings.Contains(res, "*") {
					probes = append(probes, space.resourceProbes(g.Group, res, commonVerbs)...)
				}
			}
		}
	}
	probes = append(probes, space.pathProbes(commonPaths, []string{"get", "post"})...)
	n := 0
	for _, pr := range probes {
		want := pr.attrs
		if want.Subresource != "" && want.Name == "" {
			continue // "list pods/exec": no URL asks this (a subresource is always of a named object), so no event has it
		}
		n++
		l := loggedProbe(t, want)
		e := decodeEvent(t, l)
		got, ok := Attributes(&e).(authorizer.AttributesRecord)
		if !ok {
			t.Fatalf("Attributes returns %T", Attributes(&e))
		}
		g, w := probeView(got), probeView(want)
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("lint probes %s; logged as\n  %s\ncheck evaluates\n  %+v\nlint asked\n  %+v", describeProbe(want, true), l.raw, g, w)
		}
	}
	t.Logf("%d probes are requests, of %d", n, len(probes))
}

// probeView is what the evaluator reads of attributes.
func probeView(a authorizer.AttributesRecord) []any {
	v := []any{a.User.GetName(), a.User.GetGroups(), a.Verb, a.ResourceRequest}
	if a.ResourceRequest {
		return append(v, a.Namespace, a.APIGroup, a.Resource, a.Subresource, a.Name)
	}
	return append(v, a.Path)
}

// loggedProbe is the audit event the apiserver writes for a probe's
// request: the URL a client sends for it, objectRef from the apiserver's
// RequestInfo of that URL, and for a create the name from the body.
func loggedProbe(t *testing.T, a authorizer.AttributesRecord) realLine {
	t.Helper()
	ev := map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "probe",
		"stage": "ResponseComplete", "verb": a.Verb, "stageTimestamp": "2026-11-20T02:00:00Z",
		"user": map[string]any{"username": a.User.GetName(), "groups": a.User.GetGroups()},
	}
	if !a.ResourceRequest {
		ev["requestURI"] = a.Path
	} else {
		uri := "/api/" + a.APIVersion
		if a.APIGroup != "" {
			uri = "/apis/" + a.APIGroup + "/" + a.APIVersion
		}
		if a.Namespace != "" && !(a.Resource == "namespaces" && a.Name == a.Namespace) {
			uri += "/namespaces/" + a.Namespace
		}
		uri += "/" + a.Resource
		if a.Name != "" {
			uri += "/" + a.Name
		}
		if a.Subresource != "" {
			uri += "/" + a.Subresource
		}
		if a.Verb == "watch" {
			uri += "?watch=true"
		}
		ri := apiserverRequestInfo(a.Verb, uri)
		if ri == nil || !ri.IsResourceRequest {
			t.Fatalf("%s: the apiserver does not parse %s as a resource request", describeProbe(a, true), uri)
		}
		if ri.Verb != a.Verb {
			t.Fatalf("%s: the apiserver's verb for %s is %s", describeProbe(a, true), uri, ri.Verb)
		}
		ref := map[string]string{"resource": ri.Resource, "subresource": ri.Subresource, "namespace": ri.Namespace,
			"name": ri.Name, "apiGroup": ri.APIGroup, "apiVersion": ri.APIVersion}
		if a.Verb == "create" && ri.Name == "" {
			ref["name"] = "from-the-body"
		}
		ev["requestURI"] = uri
		ev["objectRef"] = ref
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return realLine{where: describeProbe(a, true), raw: b}
}
