package history

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// Patch types. The audit log does not record a patch's Content-Type, so
// the type is told from the body: a JSON array is a JSON patch (RFC
// 6902); an object is taken as a strategic merge patch for the built-in
// kinds (what kubectl sends them) and as a JSON merge patch (RFC 7386)
// otherwise (custom resources take no strategic merge patch); an object
// with apiVersion and kind sent with a fieldManager is server-side apply.
const (
	PatchJSON      = "json"
	PatchMerge     = "merge"
	PatchStrategic = "strategic"
	PatchApply     = "apply"
)

// scheme holds the Go types of the built-in kinds, whose struct tags
// carry the strategic merge patch keys (patchMergeKey, patchStrategy).
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, rbacv1.AddToScheme,
		networkingv1.AddToScheme, policyv1.AddToScheme, autoscalingv1.AddToScheme, autoscalingv2.AddToScheme,
		storagev1.AddToScheme, admissionregistrationv1.AddToScheme, coordinationv1.AddToScheme,
		schedulingv1.AddToScheme, certificatesv1.AddToScheme, discoveryv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err) // the built-in types always register
		}
	}
	return s
}()

// typedObject returns an empty Go object of the object's kind (from its
// apiVersion and kind), or nil when the kind is not built in.
func typedObject(obj any) any {
	apiVersion, kind := str(obj, "apiVersion"), str(obj, "kind")
	if kind == "" || apiVersion == "" {
		return nil
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil
	}
	o, err := scheme.New(gv.WithKind(kind))
	if err != nil {
		return nil
	}
	return o
}

// builtInKind reports whether kind (of group) is one of the types above.
func builtInKind(group, kind string) bool {
	for gvk := range scheme.AllKnownTypes() {
		if gvk.Group == group && gvk.Kind == kind {
			return true
		}
	}
	return false
}

// guessPatchType tells a patch's type from its body (see the constants).
func guessPatchType(body any, requestURI string, builtIn bool) string {
	switch b := body.(type) {
	case []any:
		return PatchJSON
	case map[string]any:
		if _, ok := b["kind"]; ok {
			if _, ok := b["apiVersion"]; ok && strings.Contains(requestURI, "fieldManager=") && !strings.Contains(requestURI, "fieldManager=kubectl-client-side-apply") {
				return PatchApply
			}
		}
		if builtIn || hasDirective(b) {
			return PatchStrategic
		}
	}
	return PatchMerge
}

// hasDirective reports whether a patch holds a strategic merge directive
// ($patch, $retainKeys, $setElementOrder/..., $deleteFromPrimitiveList/...).
func hasDirective(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasPrefix(k, "$") || hasDirective(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasDirective(e) {
				return true
			}
		}
	}
	return false
}

// applyPatch applies a patch of type ptype to a copy of obj. For a
// strategic merge patch of a kind with no Go type here, it applies a
// merge patch and says so in the returned note.
func applyPatch(obj, patch any, ptype string) (result any, note string, err error) {
	switch ptype {
	case PatchJSON:
		ops, _ := patch.([]any)
		r, err := applyJSONPatch(deepCopy(obj), ops)
		return r, "", err
	case PatchMerge:
		return mergePatch(deepCopy(obj), patch), "", nil
	}
	// Strategic merge (and apply, approximated by it).
	typed := typedObject(obj)
	if typed == nil {
		return mergePatch(deepCopy(obj), patch), "no Go type for this kind here: applied as a JSON merge patch", nil
	}
	ob, err := json.Marshal(obj)
	if err != nil {
		return nil, "", err
	}
	pb, err := json.Marshal(patch)
	if err != nil {
		return nil, "", err
	}
	out, err := strategicpatch.StrategicMergePatch(ob, pb, typed)
	if err != nil {
		return nil, "", fmt.Errorf("strategic merge patch: %w", err)
	}
	r, err := decodeJSON(out)
	return r, "", err
}

// mergePatch applies a JSON merge patch (RFC 7386) to target (modified in
// place when it is an object).
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return deepCopy(patch)
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergePatch(tm[k], v)
	}
	return tm
}

// applyJSONPatch applies a JSON patch (RFC 6902) to doc.
func applyJSONPatch(doc any, ops []any) (any, error) {
	for i, o := range ops {
		op, ok := o.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("JSON patch operation %d is not an object", i)
		}
		name, _ := op["op"].(string)
		path, ok := op["path"].(string)
		if !ok {
			return nil, fmt.Errorf("JSON patch operation %d (%s) has no path", i, name)
		}
		var err error
		switch name {
		case "add":
			doc, err = pointerAdd(doc, path, deepCopy(op["value"]), false)
		case "replace":
			if _, err = pointerGet(doc, path); err == nil {
				doc, err = pointerAdd(doc, path, deepCopy(op["value"]), true)
			}
		case "remove":
			doc, _, err = pointerRemove(doc, path)
		case "move", "copy":
			from, _ := op["from"].(string)
			var v any
			if name == "move" {
				doc, v, err = pointerRemove(doc, from)
			} else {
				v, err = pointerGet(doc, from)
				v = deepCopy(v)
			}
			if err == nil {
				doc, err = pointerAdd(doc, path, v, false)
			}
		case "test":
			var v any
			if v, err = pointerGet(doc, path); err == nil && !jsonEqual(v, op["value"]) {
				err = fmt.Errorf("test failed at %s", path)
			}
		default:
			err = fmt.Errorf("unknown op %q", name)
		}
		if err != nil {
			return nil, fmt.Errorf("JSON patch operation %d (%s %s): %w", i, name, path, err)
		}
	}
	return doc, nil
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb) || reflect.DeepEqual(a, b)
}

// splitPointer splits a JSON pointer into its unescaped tokens.
func splitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("pointer %q does not start with /", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		parts[i] = unescapePointer(s)
	}
	return parts, nil
}

func pointerGet(doc any, p string) (any, error) {
	toks, err := splitPointer(p)
	if err != nil {
		return nil, err
	}
	return getAt(doc, toks)
}

// getAt returns the value at the (unescaped) pointer tokens.
func getAt(doc any, toks []string) (any, error) {
	cur := doc
	for _, t := range toks {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, fmt.Errorf("no member %q", t)
			}
			cur = v
		case []any:
			n, err := strconv.Atoi(t)
			if err != nil || n < 0 || n >= len(c) {
				return nil, fmt.Errorf("no element %q", t)
			}
			cur = c[n]
		default:
			return nil, fmt.Errorf("%q: not a container", t)
		}
	}
	return cur, nil
}

// pointerAdd adds (or with replace, sets) v at pointer p and returns the
// document (which changes when p is the root).
func pointerAdd(doc any, p string, v any, replace bool) (any, error) {
	toks, err := splitPointer(p)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return v, nil
	}
	parent, err := getAt(doc, toks[:len(toks)-1])
	if err != nil {
		return nil, err
	}
	last := toks[len(toks)-1]
	switch c := parent.(type) {
	case map[string]any:
		c[last] = v
		return doc, nil
	case []any:
		var n int
		if last == "-" {
			n = len(c)
		} else if n, err = strconv.Atoi(last); err != nil || n < 0 || n > len(c) || replace && n == len(c) {
			return nil, fmt.Errorf("index %q out of range", last)
		}
		var ns []any
		if replace {
			c[n] = v
			ns = c
		} else {
			ns = append(append(append([]any{}, c[:n]...), v), c[n:]...)
		}
		return setAt(doc, toks[:len(toks)-1], ns)
	}
	return nil, fmt.Errorf("%q: not a container", joinPointer(toks[:len(toks)-1]))
}

// pointerRemove removes the value at p and returns the document and the
// removed value.
func pointerRemove(doc any, p string) (any, any, error) {
	toks, err := splitPointer(p)
	if err != nil || len(toks) == 0 {
		return nil, nil, fmt.Errorf("cannot remove %q", p)
	}
	parent, err := getAt(doc, toks[:len(toks)-1])
	if err != nil {
		return nil, nil, err
	}
	last := toks[len(toks)-1]
	switch c := parent.(type) {
	case map[string]any:
		v, ok := c[last]
		if !ok {
			return nil, nil, fmt.Errorf("no member %q", last)
		}
		delete(c, last)
		return doc, v, nil
	case []any:
		n, err := strconv.Atoi(last)
		if err != nil || n < 0 || n >= len(c) {
			return nil, nil, fmt.Errorf("index %q out of range", last)
		}
		v := c[n]
		ns := append(append([]any{}, c[:n]...), c[n+1:]...)
		d, err := setAt(doc, toks[:len(toks)-1], ns)
		return d, v, err
	}
	return nil, nil, fmt.Errorf("%q: not a container", joinPointer(toks[:len(toks)-1]))
}

// setAt replaces the value at the tokens (a slice that changed length).
func setAt(doc any, toks []string, v any) (any, error) {
	if len(toks) == 0 {
		return v, nil
	}
	parent, err := getAt(doc, toks[:len(toks)-1])
	if err != nil {
		return nil, err
	}
	last := toks[len(toks)-1]
	switch c := parent.(type) {
	case map[string]any:
		c[last] = v
	case []any:
		n, _ := strconv.Atoi(last)
		c[n] = v
	}
	return doc, nil
}

// joinPointer renders tokens as a JSON pointer ("" for the root), for
// error messages.
func joinPointer(toks []string) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return b.String()
}
