package gen

import (
	"strconv"
	"time"
)

// The background traffic of a busy small production cluster: node and
// leader-election leases, kubelets, controllers, watches, operators,
// probes, and people running kubectl (with their 403s, 404s, 409s and
// 422s), plus a trickle of 401s, 429s and 500s.

type action struct {
	weight int
	fn     func(g *Generator) bool // false: nothing to log
}

var backgroundMix = func() (mix []action) {
	add := func(w int, fn func(g *Generator) bool) { mix = append(mix, action{w, fn}) }
	add(170, (*Generator).nodeLease)
	add(25, (*Generator).apiserverLease)
	add(60, (*Generator).leaderElection)
	add(120, (*Generator).kubelet)
	add(150, (*Generator).controller)
	add(60, (*Generator).watch)
	add(25, (*Generator).operator)
	add(20, (*Generator).reviews)
	add(40, (*Generator).probe)
	add(110, (*Generator).kubectl)
	add(4, (*Generator).badToken)
	add(2, (*Generator).scanner)
	return mix
}()

var mixTotal = func() (t int) {
	for _, a := range backgroundMix {
		t += a.weight
	}
	return t
}()

// background fills g.req with one background request.
func (g *Generator) background() bool {
	n := g.rng.IntN(mixTotal)
	for _, a := range backgroundMix {
		if n < a.weight {
			return a.fn(g)
		}
		n -= a.weight
	}
	return false
}

func (g *Generator) allNodes() *node {
	w := g.w
	i := g.rng.IntN(len(w.Workers) + len(w.ControlPlane))
	if i < len(w.Workers) {
		return w.Workers[i]
	}
	return w.ControlPlane[i-len(w.Workers)]
}

func (g *Generator) cpNode() *node { return g.w.ControlPlane[g.rng.IntN(len(g.w.ControlPlane))] }

func (g *Generator) workload() *workload { return g.w.Workloads[g.rng.IntN(len(g.w.Workloads))] }

func pick[T any](g *Generator, s []T) T { return s[g.rng.IntN(len(s))] }

func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

// timeoutQuery returns client-go's reflector watch query.
func (g *Generator) watchQuery(fieldSelector string, secs int) string {
	q := "allowWatchBookmarks=true"
	if fieldSelector != "" {
		q += "&fieldSelector=" + fieldSelector
	}
	return q + "&resourceVersion=" + g.rv() + "&timeout=" + (time.Duration(secs) * time.Second).String() + "&timeoutSeconds=" + strconv.Itoa(secs) + "&watch=true"
}

func (g *Generator) nodeLease() bool {
	n := g.allNodes()
	g.who(n.User, n.IP, kubeletUA)
	g.res("update", "coordination.k8s.io", "v1", "leases", "kube-node-lease", n.Name, "")
	g.query("timeout=10s")
	g.req.Obj.UID = n.UID
	g.req.Obj.ResourceVersion = g.rv()
	if g.chance(0.002) {
		g.internalError("rpc error: code = Unavailable desc = etcdserver: request timed out")
		g.req.Latency = int64(7 * time.Second)
	}
	return true
}

func (g *Generator) apiserverLease() bool {
	i := g.rng.IntN(len(g.w.ControlPlane))
	n := g.w.ControlPlane[i]
	id := g.w.Apiserver[i]
	masters := &identity{Username: "system:apiserver", UID: id.UID, Groups: []string{"system:authenticated", "system:masters"}}
	g.who(masters, "::1", apiserverUA)
	name := "apiserver-" + id.UID[:8] + id.UID[24:]
	g.res("update", "coordination.k8s.io", "v1", "leases", "kube-system", name, "")
	g.query("timeout=5s")
	rv := g.rv()
	g.req.Obj.UID, g.req.Obj.ResourceVersion = n.UID, rv
	g.req.Node = i
	g.scratch[0] = appendLease(g.scratch[0], meta{Name: name, Namespace: "kube-system", UID: n.UID, RV: rv, Created: g.start - 40*24*int64(time.Hour),
		Labels: [][2]string{{"apiserver.kubernetes.io/identity", "kube-apiserver"}, {"kubernetes.io/hostname", n.Name}}},
		name+"_"+id.UID, 3600, g.req.Received)
	g.req.RequestObject = g.scratch[0]
	return true
}

func (g *Generator) leaderElection() bool {
	n := g.cpNode()
	who, name, ua := g.w.KCM, "kube-controller-manager", kcmUA
	if g.chance(0.45) {
		who, name, ua = g.w.Scheduler, "kube-scheduler", schedUA
	}
	g.who(who, n.IP, ua+"/leader-election")
	g.req.AuthReason = rbacReason("ClusterRoleBinding", who.Username, who.Username, "User", who.Username)
	if g.chance(0.5) {
		g.res("get", "coordination.k8s.io", "v1", "leases", "kube-system", name, "")
		g.query("timeout=5s")
		return true
	}
	g.res("update", "coordination.k8s.io", "v1", "leases", "kube-system", name, "")
	g.query("timeout=5s")
	g.req.Obj.UID = "3f4a2e0b-6c1d-4e8f-9a7b-" + name[5:9] + "0c2d4e6f"
	g.req.Obj.ResourceVersion = g.rv()
	if g.chance(0.04) {
		g.conflict()
	}
	return true
}

func (g *Generator) kubelet() bool {
	n := g.allNodes()
	g.who(n.User, n.IP, kubeletUA)
	wl := g.workload()
	i := g.rng.IntN(len(wl.Pods))
	switch k := g.rng.IntN(100); {
	case k < 25:
		g.res("get", "", "v1", "pods", wl.NS, wl.Pods[i], "")
	case k < 45:
		g.res("patch", "", "v1", "pods", wl.NS, wl.Pods[i], "status")
	case k < 60:
		g.res("get", "", "v1", "nodes", "", n.Name, "")
		g.query("resourceVersion=0&timeout=10s")
	case k < 70:
		g.res("patch", "", "v1", "nodes", "", n.Name, "status")
		g.query("timeout=10s")
	case k < 82:
		// Projected service account token refresh.
		g.res("create", "", "v1", "serviceaccounts", wl.NS, wl.SA, "token")
		g.created()
	case k < 90 && len(wl.Secrets) > 0:
		// Reflector's initial list for a secret volume.
		s := pick(g, wl.Secrets)
		g.res("list", "", "v1", "secrets", wl.NS, "", "")
		g.query("fieldSelector=metadata.name%3D" + s + "&limit=500&resourceVersion=0")
		g.scratch[1] = g.appendSecretList(g.scratch[1], wl.NS, []string{s})
		g.req.ResponseObject = g.scratch[1]
	case k < 98:
		g.res("list", "", "v1", "configmaps", wl.NS, "", "")
		g.query("fieldSelector=metadata.name%3D" + pick(g, wl.ConfigMaps) + "&limit=500&resourceVersion=0")
	default:
		g.res("get", "", "v1", "pods", wl.NS, wl.Pods[i], "")
		g.req.Obj.Name = wl.Pods[i][:len(wl.Pods[i])-5] + "zzzzz"
		g.req.RequestURI = g.req.RequestURI[:len(g.req.RequestURI)-5] + "zzzzz"
		g.notFound()
	}
	return true
}

func (g *Generator) controller() bool {
	n := g.cpNode()
	c := pick(g, g.w.Controllers)
	name := c.Username[len("system:serviceaccount:kube-system:"):]
	g.who(c, n.IP, kcmUA+"/"+c.Username)
	g.req.AuthReason = rbacReason("ClusterRoleBinding", "system:controller:"+name, "system:controller:"+name, "ServiceAccount", name+"/kube-system")
	wl := g.workload()
	pod := pick(g, wl.Pods)
	rs := pod[:len(pod)-6]
	switch name {
	case "endpointslice-controller":
		g.res("update", "discovery.k8s.io", "v1", "endpointslices", wl.NS, wl.Name+"-"+pod[len(pod)-5:], "")
		g.req.Obj.UID, g.req.Obj.ResourceVersion = uidFrom(g.rng), g.rv()
		if g.chance(0.03) {
			g.conflict()
		}
	case "endpoint-controller":
		g.res("update", "", "v1", "endpoints", wl.NS, wl.Name, "")
		g.req.Obj.UID, g.req.Obj.ResourceVersion = uidFrom(g.rng), g.rv()
	case "replicaset-controller":
		switch k := g.rng.IntN(10); {
		case k < 5:
			g.res("update", "apps", "v1", "replicasets", wl.NS, rs, "status")
			g.req.Obj.UID, g.req.Obj.ResourceVersion = uidFrom(g.rng), g.rv()
		case k < 8:
			g.res("create", "", "v1", "pods", wl.NS, "", "")
			g.created()
			g.req.ExtraAnnotations = []extraAnnotation{{"pod-security.kubernetes.io/enforce-policy", "baseline:latest"}}
			if g.chance(0.12) {
				g.internalError(`failed calling webhook "validate.kyverno.svc-fail": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s": context deadline exceeded`)
				g.req.ExtraAnnotations = nil
			}
		default:
			g.res("delete", "", "v1", "pods", wl.NS, pod, "")
		}
	case "deployment-controller":
		g.res("update", "apps", "v1", "deployments", wl.NS, wl.Name, "status")
		g.req.Obj.UID, g.req.Obj.ResourceVersion = uidFrom(g.rng), g.rv()
		if g.chance(0.05) {
			g.conflict()
		}
	case "generic-garbage-collector":
		if g.chance(0.5) {
			g.res("get", "apps", "v1", "replicasets", wl.NS, rs, "")
			if g.chance(0.2) {
				g.notFound()
			}
		} else {
			g.res("delete", "", "v1", "pods", wl.NS, pod, "")
			if g.chance(0.15) {
				g.notFound()
			}
		}
	case "job-controller":
		g.res("update", "batch", "v1", "jobs", "ci", "build-"+strconv.Itoa(1000+int((g.req.Received-g.start)/int64(10*time.Minute))), "status")
		g.req.Obj.UID, g.req.Obj.ResourceVersion = uidFrom(g.rng), g.rv()
	case "node-controller":
		nn := g.allNodes()
		g.res("get", "", "v1", "nodes", "", nn.Name, "")
	case "resourcequota-controller":
		g.res("list", "", "v1", "resourcequotas", wl.NS, "", "")
		g.query("limit=500&resourceVersion=0")
	case "daemon-set-controller":
		g.res("update", "apps", "v1", "daemonsets", "kube-system", pick(g, []string{"kube-proxy", "aws-node", "ebs-csi-node"}), "status")
		g.req.Obj.UID, g.req.Obj.ResourceVersion = uidFrom(g.rng), g.rv()
	case "statefulset-controller":
		g.res("get", "apps", "v1", "statefulsets", "monitoring", "alertmanager-main", "")
	default: // namespace-controller
		g.res("list", "", "v1", "namespaces", "", "", "")
		g.query("limit=500&resourceVersion=0")
	}
	return true
}

func (g *Generator) watch() bool {
	if g.openWatches >= maxOpenWatches {
		return g.kubelet()
	}
	secs := 300 + g.rng.IntN(300)
	var fs string
	switch k := g.rng.IntN(10); {
	case k < 4:
		n := g.allNodes()
		g.who(n.User, n.IP, kubeletUA)
		if g.chance(0.5) {
			g.res("watch", "", "v1", "pods", "", "", "")
			fs = "spec.nodeName%3D" + n.Name
		} else {
			wl := g.workload()
			g.res("watch", "", "v1", "configmaps", wl.NS, "", "")
			fs = "metadata.name%3D" + pick(g, wl.ConfigMaps)
		}
	case k < 6:
		n := g.cpNode()
		g.who(g.w.Scheduler, n.IP, schedUA+"/scheduler")
		g.req.AuthReason = rbacReason("ClusterRoleBinding", "system:kube-scheduler", "system:kube-scheduler", "User", "system:kube-scheduler")
		res := pick(g, []string{"pods", "nodes", "persistentvolumeclaims", "services"})
		g.res("watch", "", "v1", res, "", "", "")
		if res == "pods" {
			fs = "status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed"
		}
	case k < 7:
		g.who(g.w.CoreDNS, "10.0.1.40", "coredns/1.11.3 (linux/amd64) kubernetes/5864a46")
		g.req.AuthReason = rbacReason("ClusterRoleBinding", "system:coredns", "system:coredns", "ServiceAccount", "coredns/kube-system")
		if g.chance(0.5) {
			g.res("watch", "discovery.k8s.io", "v1", "endpointslices", "", "", "")
		} else {
			g.res("watch", "", "v1", pick(g, []string{"services", "namespaces"}), "", "", "")
		}
	case k < 9:
		n := g.cpNode()
		c := pick(g, g.w.Controllers)
		name := c.Username[len("system:serviceaccount:kube-system:"):]
		g.who(c, n.IP, kcmUA+"/"+c.Username)
		g.req.AuthReason = rbacReason("ClusterRoleBinding", "system:controller:"+name, "system:controller:"+name, "ServiceAccount", name+"/kube-system")
		switch g.rng.IntN(3) {
		case 0:
			g.res("watch", "apps", "v1", "replicasets", "", "", "")
		case 1:
			g.res("watch", "", "v1", "pods", "", "", "")
		default:
			g.res("watch", "batch", "v1", "jobs", "", "", "")
		}
	default:
		g.who(g.w.Argo, "10.0.2.63", "argocd-application-controller/v2.13.1 (linux/amd64)")
		g.req.AuthReason = rbacReason("ClusterRoleBinding", "argocd-application-controller", "argocd-application-controller", "ServiceAccount", "argocd-application-controller/argocd")
		g.res("watch", "apps", "v1", pick(g, []string{"deployments", "statefulsets", "daemonsets"}), "", "", "")
	}
	g.query(g.watchQuery(fs, secs))
	g.req.Latency = int64(secs) * int64(time.Second)
	return true
}

func (g *Generator) operator() bool {
	op := pick(g, g.w.Operators)
	ip := "10.0.2." + strconv.Itoa(30+g.rng.IntN(60))
	g.who(op, ip, "Go-http-client/2.0")
	wl := g.workload()
	switch op {
	case g.w.Operators[0]: // cert-manager: reads and renews TLS secrets
		g.req.UserAgent = "cert-manager-certificates-trigger/v1.16.2 (linux/amd64) cert-manager/ffeb2b5d4cbb8f7e6fd3c3a80b1c0cae2c3d9c71"
		g.req.AuthReason = rbacReason("ClusterRoleBinding", "cert-manager-controller-certificates", "cert-manager-controller-certificates", "ServiceAccount", "cert-manager/cert-manager")
		name := wl.Name + "-tls"
		g.res("get", "", "v1", "secrets", wl.NS, name, "")
		if g.chance(0.3) {
			g.notFound()
			return true
		}
		g.scratch[1] = g.appendSecret(g.scratch[1], true, meta{Name: name, Namespace: wl.NS, UID: uidFrom(g.rng), RV: g.rv(), Created: g.start - 12*24*int64(time.Hour)}, "kubernetes.io/tls", "tls.crt", "tls.key")
		g.req.ResponseObject = g.scratch[1]
	case g.w.Operators[1]: // external-secrets: writes synced secrets
		g.req.UserAgent = "external-secrets/v0.10.4 (linux/amd64) kubernetes/$Format"
		g.req.AuthReason = rbacReason("ClusterRoleBinding", "external-secrets-controller", "external-secrets-controller", "ServiceAccount", "external-secrets/external-secrets")
		if len(wl.Secrets) == 0 {
			wl = g.w.Workloads[0]
		}
		name := pick(g, wl.Secrets)
		g.res("update", "", "v1", "secrets", wl.NS, name, "")
		uid, rv := uidFrom(g.rng), g.rv()
		g.req.Obj.UID, g.req.Obj.ResourceVersion = uid, rv
		g.scratch[0] = g.appendSecret(g.scratch[0], true, meta{Name: name, Namespace: wl.NS, UID: uid, RV: rv, Created: g.start - 90*24*int64(time.Hour),
			Labels: [][2]string{{"reconcile.external-secrets.io/managed", "true"}}}, secretType(name), secretKeys(name)...)
		g.req.RequestObject = g.scratch[0]
	case g.w.Operators[2]: // argocd: lists cluster secrets
		g.req.UserAgent = "argocd-application-controller/v2.13.1 (linux/amd64)"
		g.req.AuthReason = rbacReason("RoleBinding", "argocd-application-controller", "argocd-application-controller", "ServiceAccount", "argocd-application-controller/argocd")
		g.res("list", "", "v1", "secrets", "argocd", "", "")
		g.query("labelSelector=argocd.argoproj.io%2Fsecret-type%3Dcluster&limit=500&resourceVersion=0")
		g.scratch[1] = g.appendSecretList(g.scratch[1], "argocd", []string{"cluster-prod-eu-west-1"})
		g.req.ResponseObject = g.scratch[1]
	default: // prometheus-operator
		g.req.UserAgent = "PrometheusOperator/0.78.2"
		g.req.AuthReason = rbacReason("ClusterRoleBinding", "prometheus-operator", "prometheus-operator", "ServiceAccount", "prometheus-operator/monitoring")
		if g.chance(0.5) {
			g.res("get", "", "v1", "secrets", "monitoring", "prometheus-k8s-tls", "")
			g.scratch[1] = g.appendSecret(g.scratch[1], true, meta{Name: "prometheus-k8s-tls", Namespace: "monitoring", UID: uidFrom(g.rng), RV: g.rv(), Created: g.start - 50*24*int64(time.Hour)}, "kubernetes.io/tls", "tls.crt", "tls.key")
			g.req.ResponseObject = g.scratch[1]
		} else {
			g.res("update", "", "v1", "configmaps", "monitoring", "prometheus-k8s-rulefiles-0", "")
			uid, rv := uidFrom(g.rng), g.rv()
			g.req.Obj.UID, g.req.Obj.ResourceVersion = uid, rv
			g.scratch[0] = appendConfigMap(g.scratch[0], meta{Name: "prometheus-k8s-rulefiles-0", Namespace: "monitoring", UID: uid, RV: rv, Created: g.start - 50*24*int64(time.Hour),
				Labels: [][2]string{{"managedBy", "prometheus-operator"}}},
				"monitoring-kube-apiserver.yaml", "groups:\n- name: kube-apiserver\n  rules:\n  - alert: KubeAPIErrorBudgetBurn\n    expr: sum(apiserver_request:burnrate1h) > (14.40 * 0.01)\n")
			g.req.RequestObject = g.scratch[0]
		}
	}
	return true
}

func (g *Generator) reviews() bool {
	g.who(g.w.MetricsServer, "10.0.1.77", "metrics-server/v0.7.2 (linux/amd64) kubernetes/$Format")
	g.req.AuthReason = rbacReason("ClusterRoleBinding", "metrics-server:system:auth-delegator", "system:auth-delegator", "ServiceAccount", "metrics-server/kube-system")
	if g.chance(0.5) {
		g.res("create", "authentication.k8s.io", "v1", "tokenreviews", "", "", "")
	} else {
		g.res("create", "authorization.k8s.io", "v1", "subjectaccessreviews", "", "", "")
	}
	g.created()
	return true
}

func (g *Generator) probe() bool {
	n := g.cpNode()
	g.who(g.w.Anonymous, n.IP, probeUA)
	g.nonResource("get", pick(g, []string{"/livez", "/readyz", "/healthz", "/readyz?verbose"}))
	g.req.AuthReason = rbacReason("ClusterRoleBinding", "system:public-info-viewer", "system:public-info-viewer", "Group", "system:unauthenticated")
	return true
}

// badToken is a client with an expired or revoked bearer token.
func (g *Generator) badToken() bool {
	switch g.rng.IntN(3) {
	case 0:
		g.who(nil, "10.20.7.88", kubectlMacUA)
		g.nonResource("get", "/api?timeout=32s")
	case 1:
		g.who(nil, "10.30.0.9", "Go-http-client/2.0")
		g.res("list", "", "v1", "pods", "ci", "", "")
		g.query("limit=500")
	default:
		g.who(nil, "10.0.2.91", "prometheus/2.54.1")
		g.nonResource("get", "/metrics")
	}
	g.unauthorized("bearer")
	return true
}

// scanner is an unauthenticated request from inside the network.
func (g *Generator) scanner() bool {
	g.who(g.w.Anonymous, "10.0.3."+strconv.Itoa(100+g.rng.IntN(50)), "Go-http-client/1.1")
	switch g.rng.IntN(3) {
	case 0:
		g.nonResource("get", "/version")
		g.req.AuthReason = rbacReason("ClusterRoleBinding", "system:public-info-viewer", "system:public-info-viewer", "Group", "system:unauthenticated")
	case 1:
		g.res("list", "", "v1", "pods", "", "", "")
		g.forbid()
	default:
		g.nonResource("get", "/metrics")
		g.forbid()
	}
	return true
}
