package history

import (
	"fmt"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/audittui/audittui/internal/plural"
)

// deleteCollection is the verb of a DELETE on a collection's path
// (DELETE /apis/rbac.authorization.k8s.io/v1/namespaces/prod/rolebindings):
// it deletes every object of the collection that its labelSelector and
// fieldSelector pick. Its objectRef names the resource and the namespace,
// no object, so it belongs to the history of each object of the
// collection (Ref.Query, Ref.Matches), and what it did to one of them is
// told from its event (readCollection).
const deleteCollection = "deletecollection"

// effect is what a deletecollection did to the object, as far as its
// event tells.
type effect int

const (
	// effDeleted: the response lists the object among those deleted, or
	// nothing in the request could have left it out (no selector that
	// could exclude it, no limit) and no response body says otherwise.
	effDeleted effect = iota + 1
	// effMay: a selector or a limit could have left it out, and no
	// response body says whether it did.
	effMay
	// effNot: the event shows the request did not touch the object (a
	// fieldSelector that excludes it, a response listing the deleted
	// objects without it). Such a request is no row of the history:
	// History.LeftOut.
	effNot
)

// collectionRead is what a deletecollection's event says about the
// object.
type collectionRead struct {
	eff effect
	// scope is what the request asked for beyond the whole collection:
	// "labelSelector app=x, limit=5" ("" for every object).
	scope string
	// listed: the response lists the object among the deleted ones.
	listed bool
	// why explains eff (a note; for effNot, why it is left out).
	why string
	// label is the labelSelector when it parsed and selects something
	// short of everything (nil otherwise): the notes tell whether the
	// object's last known labels match it.
	label labels.Selector
}

// maxScope bounds the selector text shown in a change (the notes carry
// it whole).
const maxScope = 60

// readCollection tells what a deletecollection request did to the
// object, from its request URI's selectors and limit and, when the
// policy level recorded it, the response: the list of the objects the
// request deleted (k8s.io/apiserver's Store.DeleteCollection returns the
// objects it listed and deleted, one page when the request set a limit).
// For a list or watch of the collection (collectionReads), the same
// tells whether it could have returned the object.
func (r Ref) readCollection(req *request) *collectionRead {
	c := &collectionRead{}
	did, does := "deleted", "deletes"
	if req.row.Verb != deleteCollection {
		did, does = "returned", "returns"
	}
	uri := req.row.RequestURI
	u, err := url.Parse(uri)
	var q url.Values
	if err == nil {
		q = u.Query()
	}
	// The apiserver takes the first value of a repeated parameter.
	label, field := q.Get("labelSelector"), q.Get("fieldSelector")
	limit, cont := q.Get("limit"), q.Get("continue")
	var scope []string
	if label != "" {
		scope = append(scope, "labelSelector "+label)
	}
	if field != "" {
		scope = append(scope, "fieldSelector "+field)
	}
	if limit != "" && limit != "0" {
		scope = append(scope, "limit="+limit)
	}
	if cont != "" {
		scope = append(scope, "continue")
	}
	c.scope = strings.Join(scope, ", ")

	// The response: the objects deleted.
	if items, ok := listItems(req.respBody); ok && req.hasResp {
		for _, it := range items {
			if str(it, "metadata", "name") == r.Name {
				if ns := str(it, "metadata", "namespace"); ns == "" || ns == r.Namespace {
					c.listed = true
					break
				}
			}
		}
		if c.listed {
			c.eff, c.why = effDeleted, fmt.Sprintf("the response lists it among the %s the request %s", plural.Count(len(items), "object", "objects"), did)
		} else {
			c.eff, c.why = effNot, fmt.Sprintf("its response lists the %s it %s, not this one", plural.Count(len(items), "object", "objects"), did)
		}
		return c
	}

	var unsure []string
	if uri == "" || err != nil {
		unsure = append(unsure, "its request URI (and so its selectors) is not recorded whole")
	}
	if field != "" {
		sel, err := fields.ParseSelector(field)
		if err != nil {
			unsure = append(unsure, "the fieldSelector is not understood: "+err.Error())
		} else {
			known := map[string]string{"metadata.name": r.Name, "metadata.namespace": r.Namespace}
			for _, req := range sel.Requirements() {
				v, ok := known[req.Field]
				if !ok {
					unsure = append(unsure, "the fieldSelector names "+req.Field+", which the log does not tell")
					continue
				}
				match := v == req.Value
				if req.Operator == selection.NotEquals {
					match = !match
				}
				if !match {
					c.eff, c.why = effNot, fmt.Sprintf("fieldSelector %s excludes it: its %s is %q", field, req.Field, v)
					return c
				}
			}
		}
	}
	if label != "" {
		sel, err := labels.Parse(label)
		switch {
		case err != nil:
			unsure = append(unsure, "the labelSelector is not understood: "+err.Error())
		case !sel.Empty():
			c.label = sel
			unsure = append(unsure, "the labelSelector may exclude it")
		}
	}
	if limit != "" && limit != "0" {
		unsure = append(unsure, "with limit="+limit+" it "+does+" one page of the collection")
	}
	if cont != "" {
		unsure = append(unsure, "with continue it "+does+" from a page on")
	}
	if len(unsure) > 0 {
		c.eff = effMay
		c.why = "whether it " + did + " this object is not known: " + strings.Join(unsure, "; ") + ", and " + noListBody(req, did)
		return c
	}
	c.eff, c.why = effDeleted, "nothing in the request excludes it, and "+noListBody(req, did)
	return c
}

// noListBody says that the objects deleted (did) are not recorded.
func noListBody(req *request, did string) string {
	if req.hasResp {
		return "its response body is not the list of the objects " + did
	}
	return "no response body recorded (RequestResponse level lists the objects " + did + ")"
}

// listItems returns the items of a list body (kind FooList, or an items
// array): the objects a deletecollection deleted.
func listItems(body any) ([]any, bool) {
	m, ok := body.(map[string]any)
	if !ok || str(m, "kind") == "Status" {
		return nil, false
	}
	switch items := m["items"].(type) {
	case []any:
		return items, true
	case nil:
		// "items": null or absent: an empty list when the kind says so.
		return nil, strings.HasSuffix(str(m, "kind"), "List")
	}
	return nil, false
}

// target describes what a deletecollection of the object's collection
// asked to delete: "every rolebindings in namespace prod", "the
// clusterrolebindings that match labelSelector app=x".
func (r Ref) target(c *collectionRead) string {
	where := ""
	if r.Namespace != "" {
		where = " in namespace " + r.Namespace
	}
	if c.scope == "" {
		return "every " + r.Resource + where
	}
	return "the " + r.Resource + where + " that match " + c.scope
}

// readTarget describes what a list or watch of the object's collection
// asked for: "every secrets in namespace prod", "every secrets in every
// namespace", "the secrets in namespace prod that match labelSelector
// app=x".
func (r Ref) readTarget(c *collectionRead, ns string) string {
	where := " in every namespace"
	if ns != "" {
		where = " in namespace " + ns
	} else if r.Namespace == "" {
		where = ""
	}
	if c.scope == "" {
		return "every " + r.Resource + where
	}
	return "the " + r.Resource + where + " that match " + c.scope
}

// changeScope is the parenthesis of a deletecollection's change:
// "(deletecollection)", "(deletecollection with labelSelector app=x)",
// the selectors shortened.
func (c *collectionRead) changeScope(extra string) string {
	s := deleteCollection
	if c.scope != "" {
		sc := []rune(c.scope)
		if len(sc) > maxScope {
			sc = append(sc[:maxScope-1], '…')
		}
		s += " with " + string(sc)
	}
	if extra != "" {
		s += "; " + extra
	}
	return "(" + s + ")"
}

// labelsOf returns the labels of a version.
func labelsOf(v any) labels.Set {
	set := labels.Set{}
	m, _ := get(v, "metadata", "labels")
	if lm, ok := m.(map[string]any); ok {
		for k, x := range lm {
			if s, ok := x.(string); ok {
				set[k] = s
			}
		}
	}
	return set
}
