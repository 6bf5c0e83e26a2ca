package gen

import (
	"encoding/base64"
	"time"
)

// Request and response bodies, encoded as the apiserver logs them (the
// object's JSON as sent or returned; metadata fields in ObjectMeta order).

func appendSecondsTime(dst []byte, ns int64) []byte {
	dst = append(dst, '"')
	dst = time.Unix(0, ns).UTC().AppendFormat(dst, time.RFC3339)
	return append(dst, '"')
}

type meta struct {
	Name, Namespace, UID, RV string
	Created                  int64 // Unix ns, 0 = omit ("creationTimestamp":null in requests)
	Labels                   [][2]string
	Annotations              [][2]string
}

func appendMeta(dst []byte, m meta) []byte {
	dst = append(dst, `"metadata":{`...)
	dst = appendField(dst, "name", m.Name)
	dst = appendField(dst, "namespace", m.Namespace)
	dst = appendField(dst, "uid", m.UID)
	dst = appendField(dst, "resourceVersion", m.RV)
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, `"creationTimestamp":`...)
	if m.Created == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = appendSecondsTime(dst, m.Created)
	}
	for _, set := range []struct {
		key string
		kv  [][2]string
	}{{"labels", m.Labels}, {"annotations", m.Annotations}} {
		if len(set.kv) == 0 {
			continue
		}
		dst = append(dst, ',')
		dst = appendKey(dst, set.key)
		dst = append(dst, '{')
		for i, kv := range set.kv {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, kv[0])
			dst = append(dst, ':')
			dst = appendString(dst, kv[1])
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendSecret appends a v1 Secret with fake base64 data for keys.
func (g *Generator) appendSecret(dst []byte, withKind bool, m meta, typ string, keys ...string) []byte {
	dst = append(dst, '{')
	if withKind {
		dst = append(dst, `"kind":"Secret","apiVersion":"v1",`...)
	}
	dst = appendMeta(dst, m)
	dst = append(dst, `,"data":{`...)
	var raw [24]byte
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':', '"')
		for j := range raw {
			raw[j] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[g.rng.IntN(62)]
		}
		dst = base64.StdEncoding.AppendEncode(dst, raw[:])
		dst = append(dst, '"')
	}
	dst = append(dst, `},"type":`...)
	dst = appendString(dst, typ)
	return append(dst, '}')
}

// appendSecretList appends a v1 SecretList of the given names.
func (g *Generator) appendSecretList(dst []byte, ns string, names []string) []byte {
	dst = append(dst, `{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":`...)
	dst = appendString(dst, g.rv())
	dst = append(dst, `},"items":[`...)
	for i, n := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = g.appendSecret(dst, false, meta{Name: n, Namespace: ns, UID: uidFrom(g.rng), RV: g.rv(), Created: g.start - int64(30+i)*24*int64(time.Hour)}, secretType(n), secretKeys(n)...)
	}
	return append(dst, "]}"...)
}

func secretType(name string) string {
	switch {
	case len(name) > 4 && name[len(name)-4:] == "-tls":
		return "kubernetes.io/tls"
	case name == "registry-credentials":
		return "kubernetes.io/dockerconfigjson"
	}
	return "Opaque"
}

func secretKeys(name string) []string {
	switch secretType(name) {
	case "kubernetes.io/tls":
		return []string{"tls.crt", "tls.key"}
	case "kubernetes.io/dockerconfigjson":
		return []string{".dockerconfigjson"}
	}
	return []string{"username", "password"}
}

func appendConfigMap(dst []byte, m meta, kv ...string) []byte {
	dst = append(dst, `{"kind":"ConfigMap","apiVersion":"v1",`...)
	dst = appendMeta(dst, m)
	dst = append(dst, `,"data":{`...)
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, kv[i])
		dst = append(dst, ':')
		dst = appendString(dst, kv[i+1])
	}
	return append(dst, "}}"...)
}

// appendBinding appends a RoleBinding or ClusterRoleBinding.
func appendBinding(dst []byte, kind string, m meta, roleKind, role, subjKind, subjName, subjNS string) []byte {
	dst = append(dst, `{"kind":`...)
	dst = appendString(dst, kind)
	dst = append(dst, `,"apiVersion":"rbac.authorization.k8s.io/v1",`...)
	dst = appendMeta(dst, m)
	dst = append(dst, `,"subjects":[{"kind":`...)
	dst = appendString(dst, subjKind)
	if subjKind != "ServiceAccount" {
		dst = append(dst, `,"apiGroup":"rbac.authorization.k8s.io"`...)
	}
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, subjName)
	if subjNS != "" {
		dst = append(dst, `,"namespace":`...)
		dst = appendString(dst, subjNS)
	}
	dst = append(dst, `}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":`...)
	dst = appendString(dst, roleKind)
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, role)
	return append(dst, "}}"...)
}

// appendRole appends a Role with one rule.
func appendRole(dst []byte, m meta, groups, resources, verbs []string) []byte {
	dst = append(dst, `{"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1",`...)
	dst = appendMeta(dst, m)
	dst = append(dst, `,"rules":[{"verbs":`...)
	dst = appendStrings(dst, verbs)
	dst = append(dst, `,"apiGroups":`...)
	dst = appendStrings(dst, groups)
	dst = append(dst, `,"resources":`...)
	dst = appendStrings(dst, resources)
	return append(dst, "}]}"...)
}

func appendDeleteOptions(dst []byte, policy string) []byte {
	dst = append(dst, `{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":`...)
	dst = appendString(dst, policy)
	return append(dst, '}')
}

func appendServiceAccount(dst []byte, m meta) []byte {
	dst = append(dst, `{"kind":"ServiceAccount","apiVersion":"v1",`...)
	dst = appendMeta(dst, m)
	return append(dst, '}')
}

// appendLease appends a coordination.k8s.io/v1 Lease.
func appendLease(dst []byte, m meta, holder string, durationSec int, renew int64) []byte {
	dst = append(dst, `{"kind":"Lease","apiVersion":"coordination.k8s.io/v1",`...)
	dst = appendMeta(dst, m)
	dst = append(dst, `,"spec":{"holderIdentity":`...)
	dst = appendString(dst, holder)
	dst = append(dst, `,"leaseDurationSeconds":`...)
	dst = appendInt(dst, int64(durationSec))
	dst = append(dst, `,"renewTime":`...)
	dst = appendMicroTime(dst, renew)
	return append(dst, "}}"...)
}

// appendPrivilegedPod appends the story's node-escape pod: privileged,
// hostPID, hostNetwork, the host's / mounted.
func appendPrivilegedPod(dst []byte, m meta, nodeName string) []byte {
	dst = append(dst, `{"kind":"Pod","apiVersion":"v1",`...)
	dst = appendMeta(dst, m)
	dst = append(dst, `,"spec":{"volumes":[{"name":"host","hostPath":{"path":"/","type":""}}],"containers":[{"name":"shell","image":"docker.io/library/alpine:3.20","command":["sleep","infinity"],"resources":{},"volumeMounts":[{"name":"host","mountPath":"/host"}],"imagePullPolicy":"IfNotPresent","securityContext":{"privileged":true}}],"restartPolicy":"Never","nodeName":`...)
	dst = appendString(dst, nodeName)
	dst = append(dst, `,"hostNetwork":true,"hostPID":true,"tolerations":[{"operator":"Exists"}]},"status":{}}`...)
	return dst
}
