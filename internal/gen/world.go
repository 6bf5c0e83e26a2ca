package gen

import (
	"fmt"
	"math/rand/v2"
)

// Versions and user agents of the simulated cluster (Kubernetes 1.31).
const (
	k8sVersion   = "v1.31.2"
	k8sCommit    = "5864a4677267e6adeae276ad85882a8714d69d9d"
	kubectlUA    = "kubectl/v1.31.0 (linux/amd64) kubernetes/9edcffc"
	kubectlMacUA = "kubectl/v1.30.4 (darwin/arm64) kubernetes/a51b3b7"
	kubeletUA    = "kubelet/" + k8sVersion + " (linux/amd64) kubernetes/5864a46"
	kcmUA        = "kube-controller-manager/" + k8sVersion + " (linux/amd64) kubernetes/5864a46"
	schedUA      = "kube-scheduler/" + k8sVersion + " (linux/amd64) kubernetes/5864a46"
	apiserverUA  = "kube-apiserver/" + k8sVersion + " (linux/amd64) kubernetes/5864a46"
	probeUA      = "kube-probe/1.31"
)

// node is a cluster node (worker or control plane).
type node struct {
	Name string
	IP   string
	UID  string
	User *identity // system:node:<name>
}

// workload is a Deployment-like set of pods in a namespace.
type workload struct {
	NS, Name, SA string
	Pods         []string
	PodUIDs      []string
	Secrets      []string
	ConfigMaps   []string
	Container    string
}

// world holds the fixed names of the simulated cluster.
type world struct {
	ControlPlane []*node // one per apiserver
	Workers      []*node
	Workloads    []*workload

	KCM, Scheduler, Admin, Anonymous *identity
	Apiserver                        []*identity // system:apiserver per control-plane node
	Controllers                      []*identity // kube-system controller service accounts
	Operators                        []*identity // in-cluster operators reading secrets
	Humans                           []*human
	CIBot                            *identity
	Suspicious                       *identity
	Argo                             *identity
	MetricsServer                    *identity
	CoreDNS                          *identity
}

type human struct {
	ID        *identity
	IP        string
	UA        string
	Namespace []string // namespaces they work in
	Power     bool     // may write RBAC, create things cluster-wide
}

func uidFrom(rng *rand.Rand) string {
	return string(appendUUID(nil, rng.Uint64(), rng.Uint64()))
}

func newWorld(rng *rand.Rand, cpNodes int) *world {
	w := &world{}
	for i := range max(cpNodes, 3) {
		ip := fmt.Sprintf("10.0.0.%d", 11+i)
		n := &node{Name: fmt.Sprintf("ip-10-0-0-%d.eu-west-1.compute.internal", 11+i), IP: ip, UID: uidFrom(rng)}
		n.User = &identity{Username: "system:node:" + n.Name, Groups: []string{"system:nodes", "system:authenticated"}}
		w.ControlPlane = append(w.ControlPlane, n)
		w.Apiserver = append(w.Apiserver, &identity{Username: "system:apiserver", UID: uidFrom(rng), Groups: []string{"system:authenticated"}})
	}
	for i := range 6 {
		a, b := 1+i/3, 20+rng.IntN(200)
		ip := fmt.Sprintf("10.0.%d.%d", a, b)
		n := &node{Name: fmt.Sprintf("ip-10-0-%d-%d.eu-west-1.compute.internal", a, b), IP: ip, UID: uidFrom(rng)}
		n.User = &identity{Username: "system:node:" + n.Name, Groups: []string{"system:nodes", "system:authenticated"}}
		w.Workers = append(w.Workers, n)
	}
	w.KCM = &identity{Username: "system:kube-controller-manager", Groups: []string{"system:authenticated"}}
	w.Scheduler = &identity{Username: "system:kube-scheduler", Groups: []string{"system:authenticated"}}
	w.Admin = &identity{Username: "kubernetes-admin", Groups: []string{"kubeadm:cluster-admins", "system:masters", "system:authenticated"}}
	w.Anonymous = &identity{Username: "system:anonymous", Groups: []string{"system:unauthenticated"}}
	for _, c := range []string{"replicaset-controller", "deployment-controller", "endpointslice-controller",
		"endpoint-controller", "generic-garbage-collector", "job-controller", "namespace-controller",
		"daemon-set-controller", "statefulset-controller", "node-controller", "resourcequota-controller"} {
		w.Controllers = append(w.Controllers, saIdentity(rng, "kube-system", c, nil))
	}
	w.CoreDNS = saIdentity(rng, "kube-system", "coredns", w.Workers[0])
	w.MetricsServer = saIdentity(rng, "kube-system", "metrics-server", w.Workers[1])
	w.Argo = saIdentity(rng, "argocd", "argocd-application-controller", w.Workers[2])
	w.Operators = []*identity{
		saIdentity(rng, "cert-manager", "cert-manager", w.Workers[3]),
		saIdentity(rng, "external-secrets", "external-secrets", w.Workers[4]),
		w.Argo,
		saIdentity(rng, "monitoring", "prometheus-operator", w.Workers[5]),
	}
	w.CIBot = &identity{Username: "ci-bot", Groups: []string{"ci-deployers", "system:authenticated"}}
	w.Suspicious = &identity{Username: "suspicious-user", Groups: []string{"contractors", "system:authenticated"}}
	oidc := func(name string, groups ...string) *identity {
		return &identity{Username: name, Groups: append(groups, "system:authenticated")}
	}
	w.Humans = []*human{
		{ID: oidc("alice@corp.example", "oidc:sre"), IP: "10.20.4.17", UA: kubectlUA, Namespace: []string{"production", "payments", "monitoring", "kube-system"}, Power: true},
		{ID: oidc("bob@corp.example", "oidc:dev"), IP: "10.20.7.88", UA: kubectlMacUA, Namespace: []string{"staging", "default", "production"}},
		{ID: oidc("carol@corp.example", "oidc:sre", "oidc:oncall"), IP: "10.20.4.31", UA: kubectlUA, Namespace: []string{"payments", "production", "ingress-nginx"}, Power: true},
		{ID: w.CIBot, IP: "10.30.0.5", UA: "kubectl/v1.31.0 (linux/amd64) kubernetes/9edcffc", Namespace: []string{"staging", "production", "ci"}},
		{ID: w.Suspicious, IP: "10.20.9.140", UA: kubectlUA, Namespace: []string{"default", "staging"}},
		{ID: w.Admin, IP: "10.0.0.11", UA: kubectlUA, Namespace: []string{"kube-system", "default"}, Power: true},
	}

	type spec struct {
		ns, name, sa, container string
		replicas                int
		secrets, cms            []string
	}
	specs := []spec{
		{"production", "web", "web-frontend", "web", 4, []string{"web-tls", "session-key"}, []string{"web-config"}},
		{"production", "api", "api", "api", 3, []string{"db-credentials", "api-keys"}, []string{"api-config", "feature-flags"}},
		{"production", "worker", "worker", "worker", 2, []string{"db-credentials", "queue-credentials"}, []string{"worker-config"}},
		{"payments", "payments-api", "payments", "payments", 3, []string{"stripe-api-key", "payments-db"}, []string{"payments-config"}},
		{"staging", "web", "web-frontend", "web", 2, []string{"web-tls"}, []string{"web-config"}},
		{"staging", "api", "api", "api", 1, []string{"db-credentials"}, []string{"api-config"}},
		{"monitoring", "prometheus-k8s", "prometheus-k8s", "prometheus", 2, []string{"prometheus-k8s-tls"}, []string{"prometheus-k8s-rulefiles-0"}},
		{"monitoring", "grafana", "grafana", "grafana", 1, []string{"grafana-admin"}, []string{"grafana-dashboards"}},
		{"ingress-nginx", "ingress-nginx-controller", "ingress-nginx", "controller", 2, []string{"ingress-nginx-admission"}, []string{"ingress-nginx-controller"}},
		{"kube-system", "coredns", "coredns", "coredns", 2, nil, []string{"coredns"}},
		{"default", "debug-tools", "default", "toolbox", 1, nil, []string{"toolbox-scripts"}},
		{"ci", "runner", "ci-runner", "runner", 2, []string{"registry-credentials"}, []string{"runner-config"}},
	}
	for _, s := range specs {
		wl := &workload{NS: s.ns, Name: s.name, SA: s.sa, Container: s.container, Secrets: s.secrets, ConfigMaps: append(s.cms, "kube-root-ca.crt")}
		hash := randName(rng, 10, "bcdfghjklmnpqrstvwxz2456789")
		for range s.replicas {
			wl.Pods = append(wl.Pods, s.name+"-"+hash+"-"+randName(rng, 5, "bcdfghjklmnpqrstvwxz2456789"))
			wl.PodUIDs = append(wl.PodUIDs, uidFrom(rng))
		}
		w.Workloads = append(w.Workloads, wl)
	}
	return w
}

func randName(rng *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// saIdentity returns a service account user; when bound to a pod on node
// n its token carries the pod/node extra attributes (Kubernetes >= 1.30).
func saIdentity(rng *rand.Rand, ns, name string, n *node) *identity {
	id := &identity{
		Username: "system:serviceaccount:" + ns + ":" + name,
		UID:      uidFrom(rng),
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}
	if n != nil {
		id.Extra = []extraKV{
			{"authentication.kubernetes.io/credential-id", []string{"JTI=" + uidFrom(rng)}},
			{"authentication.kubernetes.io/node-name", []string{n.Name}},
			{"authentication.kubernetes.io/node-uid", []string{n.UID}},
			{"authentication.kubernetes.io/pod-name", []string{name + "-" + randName(rng, 10, "bcdfghjklmnpqrstvwxz2456789") + "-" + randName(rng, 5, "bcdfghjklmnpqrstvwxz2456789")}},
			{"authentication.kubernetes.io/pod-uid", []string{uidFrom(rng)}},
		}
	}
	return id
}
