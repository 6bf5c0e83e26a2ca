// Package deploy_test checks the manifests in deploy/ as the API server and
// ship would see them: every YAML document decodes strictly into the
// Kubernetes API types (an unknown or misspelt field fails), the DaemonSet
// mounts the audit directory read-only and the state directory read-write,
// its probes hit endpoints ship serves on the port ship listens on, the
// ConfigMap's ship.yaml passes `audittui ship --check-config` with the
// DaemonSet's environment, and the image is pinned to the release version.
// serve.yaml (`audittui serve`) is checked by TestServeManifest.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/audittui/audittui/internal/cli"
	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	clserve "github.com/audittui/audittui/internal/cli/serve"
	"github.com/audittui/audittui/internal/serve"
	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/testutil"
)

// kustomization mirrors the fields of kustomize's Kustomization type this
// repository may use (kustomize's Go module is not a dependency); decoding
// is strict, so any other field fails and must be added here knowingly.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources,omitempty"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
}

// doc is one YAML document of a file in deploy/.
type doc struct {
	where string // file:document
	raw   []byte
	obj   any
}

func deployDir() string { return filepath.Join(testutil.RepoRoot(), "deploy") }

func decoder() runtime.Decoder {
	sch := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, corev1.AddToScheme, auditv1.AddToScheme} {
		if err := add(sch); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(sch, serializer.EnableStrict).UniversalDeserializer()
}

// splitDocs splits a YAML stream at "---", dropping documents that hold
// only comments.
func splitDocs(b []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var out [][]byte
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var v any
		if err := sigsyaml.Unmarshal(d, &v); err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, d)
		}
	}
}

// decodeStrict decodes one document into its API type.
func decodeStrict(dec runtime.Decoder, raw []byte) (any, error) {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := sigsyaml.Unmarshal(raw, &meta); err != nil {
		return nil, err
	}
	if meta.Kind == "Kustomization" {
		var k kustomization
		if err := sigsyaml.UnmarshalStrict(raw, &k); err != nil {
			return nil, err
		}
		if k.APIVersion != "kustomize.config.k8s.io/v1beta1" {
			return nil, fmt.Errorf("Kustomization apiVersion %q", k.APIVersion)
		}
		return &k, nil
	}
	obj, _, err := dec.Decode(raw, nil, nil)
	return obj, err
}

// loadDocs decodes every YAML document in deploy/ (and the YAML blocks of
// its Markdown files, which are pod spec fragments) strictly.
func loadDocs(t *testing.T) []doc {
	t.Helper()
	dec := decoder()
	entries, err := os.ReadDir(deployDir())
	if err != nil {
		t.Fatal(err)
	}
	var docs []doc
	for _, e := range entries {
		name := e.Name()
		b, err := os.ReadFile(filepath.Join(deployDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(name) {
		case ".yaml", ".yml":
			if name == "ship.yaml" {
				continue // ship's own config, checked by --check-config below
			}
			parts, err := splitDocs(b)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if len(parts) == 0 {
				t.Errorf("%s holds no document", name)
			}
			for i, raw := range parts {
				where := fmt.Sprintf("%s:%d", name, i+1)
				obj, err := decodeStrict(dec, raw)
				if err != nil {
					t.Errorf("%s: %v", where, err)
					continue
				}
				docs = append(docs, doc{where: where, raw: raw, obj: obj})
			}
		case ".md":
			for i, block := range yamlBlocks(b) {
				where := fmt.Sprintf("%s: yaml block %d", name, i+1)
				var pod corev1.Pod
				if err := sigsyaml.UnmarshalStrict(block, &pod); err != nil {
					t.Errorf("%s: not a strict pod spec fragment: %v", where, err)
					continue
				}
				docs = append(docs, doc{where: where, raw: block, obj: &pod})
			}
		}
	}
	return docs
}

var fence = regexp.MustCompile("(?s)```yaml\n(.*?)```")

func yamlBlocks(md []byte) [][]byte {
	var out [][]byte
	for _, m := range fence.FindAllSubmatch(md, -1) {
		out = append(out, m[1])
	}
	return out
}

func find[T any](t *testing.T, docs []doc) []T {
	t.Helper()
	var out []T
	for _, d := range docs {
		if v, ok := d.obj.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// Strictness is real: a misspelt field in a copy of the DaemonSet fails.
func TestDecodingIsStrict(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir(), "daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(b, []byte("readOnly: true"), []byte("readonly: true"), 1)
	if bytes.Equal(bad, b) {
		t.Fatal("daemonset.yaml has no readOnly: true to misspell")
	}
	if _, err := decodeStrict(decoder(), bad); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("misspelt field accepted: %v", err)
	}
	if _, err := decodeStrict(decoder(), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\nbinaryData: {}\nextra: 1\n")); err == nil {
		t.Error("unknown top-level field accepted")
	}
}

// shipYAML is the ConfigMap's ship.yaml, loaded with env.
func shipYAML(t *testing.T, cm *corev1.ConfigMap, env map[string]string) *config.Config {
	t.Helper()
	text, ok := cm.Data["ship.yaml"]
	if !ok {
		t.Fatalf("ConfigMap %s has no ship.yaml", cm.Name)
	}
	c, err := config.Parse([]byte(text), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("ConfigMap ship.yaml: %v", err)
	}
	c.ApplyDefaults()
	return c
}

// containerEnv returns the literal env values of a container.
// sampleNode stands for the node name the downward API gives the pod.
const sampleNode = "cp-node-1"

func containerEnv(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			m[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName":
			m[e.Name] = sampleNode // the downward API's value
		}
	}
	return m
}

// underMount returns the mount holding path p, the deepest one.
func underMount(c corev1.Container, p string) *corev1.VolumeMount {
	var best *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		mp := path.Clean(m.MountPath)
		if p == mp || strings.HasPrefix(p, mp+"/") {
			if best == nil || len(mp) > len(path.Clean(best.MountPath)) {
				best = &c.VolumeMounts[i]
			}
		}
	}
	return best
}

func volume(spec corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

func TestManifests(t *testing.T) {
	docs := loadDocs(t)
	for _, d := range docs {
		t.Logf("%s: %T", d.where, d.obj)
	}
	dss := find[*appsv1.DaemonSet](t, docs)
	cms := find[*corev1.ConfigMap](t, docs)
	sas := find[*corev1.ServiceAccount](t, docs)
	ks := find[*kustomization](t, docs)
	if len(dss) != 1 || len(cms) != 1 || len(sas) != 1 || len(ks) != 1 || len(find[*auditv1.Policy](t, docs)) != 1 {
		t.Fatalf("want one DaemonSet, ConfigMap, ServiceAccount, audit Policy and Kustomization; got %d %d %d %d", len(dss), len(cms), len(sas), len(ks))
	}
	ds, cm, sa, k := dss[0], cms[0], sas[0], ks[0]
	spec := ds.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("DaemonSet has %d containers", len(spec.Containers))
	}
	ctr := spec.Containers[0]
	env := containerEnv(ctr)
	c := shipYAML(t, cm, env)

	t.Run("kustomization", func(t *testing.T) {
		for _, r := range k.Resources {
			if _, err := os.Stat(filepath.Join(deployDir(), r)); err != nil {
				t.Errorf("kustomization resource %s: %v", r, err)
			}
		}
		for _, o := range []struct{ kind, ns string }{{"DaemonSet", ds.Namespace}, {"ConfigMap", cm.Namespace}, {"ServiceAccount", sa.Namespace}} {
			if o.ns != k.Namespace {
				t.Errorf("%s namespace %q, kustomization %q", o.kind, o.ns, k.Namespace)
			}
		}
	})

	t.Run("wiring", func(t *testing.T) {
		sel := ds.Spec.Selector.MatchLabels
		for key, v := range sel {
			if ds.Spec.Template.Labels[key] != v {
				t.Errorf("selector %s=%s does not match the pod template", key, v)
			}
		}
		if spec.ServiceAccountName != sa.Name {
			t.Errorf("serviceAccountName %q, ServiceAccount %q", spec.ServiceAccountName, sa.Name)
		}
		for _, m := range ctr.VolumeMounts {
			if volume(spec, m.Name) == nil {
				t.Errorf("mount %s names no volume", m.Name)
			}
		}
		// args: ship --config FILE, FILE from the ConfigMap's ship.yaml.
		if len(ctr.Args) != 3 || ctr.Args[0] != "ship" || ctr.Args[1] != "--config" {
			t.Fatalf("args %q, want ship --config FILE", ctr.Args)
		}
		m := underMount(ctr, ctr.Args[2])
		if m == nil || !m.ReadOnly {
			t.Fatalf("--config %s is not on a read-only mount (%+v)", ctr.Args[2], m)
		}
		v := volume(spec, m.Name)
		if v == nil || v.ConfigMap == nil || v.ConfigMap.Name != cm.Name || path.Base(ctr.Args[2]) != "ship.yaml" {
			t.Errorf("--config %s does not come from ConfigMap %s key ship.yaml (volume %+v)", ctr.Args[2], cm.Name, v)
		}
		// One Loki stream per node: Loki refuses an entry more than an
		// hour behind its stream's newest, so nodes must not share
		// streams (review J3). NODE_NAME is the downward API's node name.
		node := false
		for _, lb := range c.Loki.Labels {
			node = node || lb.Name == "node" && lb.Value == sampleNode
		}
		if !node {
			t.Errorf("Loki Labels %v have no node=${NODE_NAME} from spec.nodeName", c.Loki.Labels)
		}
		// ship's whole stop (handing what was read to the sinks, their
		// flush) takes at most Grace_period; the margin is for stopping
		// the reader and saving the checkpoint before kubelet's SIGKILL.
		const margin = 5 * time.Second
		if g := spec.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second < c.GracePeriod.D()+margin {
			t.Errorf("terminationGracePeriodSeconds %v is not at least Grace_period %v + %v", g, c.GracePeriod.D(), margin)
		}
	})

	// The audit directory is read from the host read-only; checkpoints,
	// the S3 buffer and the dead-letter file go to a read-write host
	// directory that survives the pod.
	t.Run("mounts", func(t *testing.T) {
		audit := underMount(ctr, c.Path)
		if audit == nil {
			t.Fatalf("Path %s is on no mount", c.Path)
		}
		if !audit.ReadOnly {
			t.Errorf("audit directory mount %s is read-write; ship only reads evidence", audit.MountPath)
		}
		if v := volume(spec, audit.Name); v == nil || v.HostPath == nil || path.Clean(v.HostPath.Path) != path.Clean(audit.MountPath) {
			t.Errorf("audit mount %s is not the same host directory (%+v)", audit.MountPath, v)
		}
		for opt, p := range map[string]string{"State_dir": c.StateDir, "S3.Store_dir": c.S3.StoreDir, "Loki.Dead_letter_file": path.Dir(c.Loki.DeadLetterFile)} {
			m := underMount(ctr, p)
			if m == nil {
				t.Errorf("%s %s is on no mount (the root filesystem is read-only)", opt, p)
				continue
			}
			if m.ReadOnly {
				t.Errorf("%s %s is on read-only mount %s", opt, p, m.MountPath)
			}
			if v := volume(spec, m.Name); v == nil || v.HostPath == nil {
				t.Errorf("%s %s is not on a host directory: a new pod would lose the checkpoint", opt, p)
			}
		}
		if sc := ctr.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Error("root filesystem not read-only")
		}
	})

	// Root, but only to read root-owned 0600 audit files: every capability
	// dropped but DAC_READ_SEARCH, no privilege escalation.
	t.Run("security", func(t *testing.T) {
		sc := ctr.SecurityContext
		if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 0 {
			t.Fatalf("ship must run as uid 0 (the image's default user is 65532): %+v", sc)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Error("privileged")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Error("allowPrivilegeEscalation not false")
		}
		if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" ||
			len(sc.Capabilities.Add) != 1 || sc.Capabilities.Add[0] != "DAC_READ_SEARCH" {
			t.Errorf("capabilities %+v, want drop ALL, add DAC_READ_SEARCH only", sc.Capabilities)
		}
		if spec.HostNetwork || spec.HostPID || spec.HostIPC {
			t.Error("host namespaces")
		}
	})

	// Probes and the scrape annotations hit paths ship's handler serves, on
	// the port Metrics_addr listens on.
	t.Run("probes", func(t *testing.T) {
		_, port, err := net.SplitHostPort(c.MetricsAddr)
		if err != nil {
			t.Fatalf("Metrics_addr %q: %v", c.MetricsAddr, err)
		}
		want, _ := strconv.Atoi(port)
		resolve := func(p intstr.IntOrString) int {
			if p.Type == intstr.Int {
				return p.IntValue()
			}
			for _, cp := range ctr.Ports {
				if cp.Name == p.StrVal {
					return int(cp.ContainerPort)
				}
			}
			t.Errorf("port %q is not a container port", p.StrVal)
			return -1
		}
		m := metrics.New()
		m.SetReady(true)
		srv := httptest.NewServer(m.Handler())
		defer srv.Close()
		get := func(what, p string) {
			r, err := srv.Client().Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.StatusCode != 200 {
				t.Errorf("%s: GET %s answers %d from ship's handler", what, p, r.StatusCode)
			}
		}
		for name, pr := range map[string]*corev1.Probe{"livenessProbe": ctr.LivenessProbe, "readinessProbe": ctr.ReadinessProbe} {
			if pr == nil || pr.HTTPGet == nil {
				t.Errorf("%s is not an HTTP probe", name)
				continue
			}
			if got := resolve(pr.HTTPGet.Port); got != want {
				t.Errorf("%s port %d, ship listens on %d (Metrics_addr %q)", name, got, want, c.MetricsAddr)
			}
			get(name, pr.HTTPGet.Path)
		}
		if ctr.LivenessProbe != nil && ctr.LivenessProbe.HTTPGet != nil && ctr.LivenessProbe.HTTPGet.Path == "/readyz" {
			t.Error("liveness on /readyz would restart a pod that waits for a sink")
		}
		ann := ds.Spec.Template.Annotations
		if ann["prometheus.io/port"] != port {
			t.Errorf("prometheus.io/port %q, ship listens on %s", ann["prometheus.io/port"], port)
		}
		get("prometheus.io/path", ann["prometheus.io/path"])
	})

	// The ConfigMap's ship.yaml passes audittui ship --check-config with
	// the environment the DaemonSet gives it.
	t.Run("check-config", func(t *testing.T) {
		for k, v := range env {
			t.Setenv(k, v)
		}
		f := filepath.Join(t.TempDir(), "ship.yaml")
		if err := os.WriteFile(f, []byte(cm.Data["ship.yaml"]), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := cli.Main(context.Background(), []string{"ship", "--config", f, "--check-config"}, &cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb})
		if code != 0 {
			t.Fatalf("audittui ship --check-config: exit %d\n%s%s", code, out.String(), errb.String())
		}
		if !strings.Contains(out.String(), "Cluster: "+env["CLUSTER_NAME"]+"\n") {
			t.Errorf("effective config:\n%s", out.String())
		}
	})

	// The image is pinned to the release version (the newest version in
	// CHANGELOG.md), here and in the kustomization, never latest.
	t.Run("image", func(t *testing.T) {
		version := changelogVersion(t)
		ref := ctr.Image
		repo, tag, ok := strings.Cut(ref, ":")
		if !ok || strings.Contains(tag, "/") {
			t.Fatalf("image %q has no tag", ref)
		}
		if tag == "latest" || tag != "v"+version {
			t.Errorf("image %s: tag %q, want v%s (CHANGELOG.md)", ref, tag, version)
		}
		if repo != "ghcr.io/audittui/audittui" {
			t.Errorf("image repository %q", repo)
		}
		if ctr.ImagePullPolicy == corev1.PullAlways {
			t.Error("imagePullPolicy Always with a pinned tag")
		}
		found := false
		for _, im := range k.Images {
			if im.Name == repo {
				found = true
				if im.NewTag != tag || im.NewName != "" {
					t.Errorf("kustomization images %+v disagrees with the DaemonSet's %s", im, ref)
				}
			}
		}
		if !found {
			t.Errorf("kustomization pins no tag for %s", repo)
		}
	})

	// The apiserver flags document writes where ship reads.
	t.Run("apiserver flags", func(t *testing.T) {
		pods := find[*corev1.Pod](t, docs)
		if len(pods) != 1 || len(pods[0].Spec.Containers) != 1 {
			t.Fatalf("apiserver-flags.md: want one pod fragment with one container, got %d", len(pods))
		}
		api := pods[0].Spec
		if !containsString(api.Containers[0].Command, "--audit-log-path="+c.Path) {
			t.Errorf("apiserver-flags.md does not set --audit-log-path=%s", c.Path)
		}
		var hostDir string
		for _, v := range api.Volumes {
			if v.HostPath != nil && (c.Path == v.HostPath.Path || strings.HasPrefix(c.Path, v.HostPath.Path+"/")) {
				hostDir = v.HostPath.Path
			}
		}
		audit := underMount(ctr, c.Path)
		if hostDir == "" || audit == nil {
			t.Fatal("no host directory for the audit log in apiserver-flags.md or the DaemonSet")
		}
		if v := volume(spec, audit.Name); v.HostPath == nil || v.HostPath.Path != hostDir {
			t.Errorf("apiserver writes to host %s, ship reads host %+v", hostDir, v.HostPath)
		}
	})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var versionHeading = regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\]`)

func changelogVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := versionHeading.FindSubmatch(b)
	if m == nil {
		t.Fatal("CHANGELOG.md has no ## [X.Y.Z] section")
	}
	return string(m[1])
}

// TestServeManifest checks deploy/serve.yaml, the `audittui serve`
// Deployment and Service: its arguments parse as serve's flags; the
// evidence is on a read-only volume and nothing writes there; the keys come
// from a Secret with a mode serve accepts for a host key; every path serve
// writes (spill, access log, data directory) is on a writable volume
// beside a read-only root filesystem; it runs as non-root with no
// capability and no API token; the Service reaches the port serve listens
// on; the image is the release's.
func TestServeManifest(t *testing.T) {
	docs := loadDocs(t)
	deps := find[*appsv1.Deployment](t, docs)
	svcs := find[*corev1.Service](t, docs)
	if len(deps) != 1 || len(svcs) != 1 {
		t.Fatalf("want one Deployment and one Service (serve.yaml); got %d and %d", len(deps), len(svcs))
	}
	dep, svc := deps[0], svcs[0]
	spec := dep.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("Deployment has %d containers", len(spec.Containers))
	}
	ctr := spec.Containers[0]
	if len(ctr.Args) == 0 || ctr.Args[0] != "serve" {
		t.Fatalf("args %q: not audittui serve", ctr.Args)
	}
	var o *clserve.ServeOptions
	ios, _, errOut := clitest.Streams("")
	cmd := clserve.NewCmdServe(clitest.Factory(ios), func(so *clserve.ServeOptions) error { o = so; return nil })
	cmd.SetArgs(ctr.Args[1:])
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil || o == nil {
		t.Fatalf("serve's flags do not take %q: %v %s", ctr.Args[1:], err, errOut.String())
	}
	if ks := find[*kustomization](t, docs); len(ks) == 1 && (dep.Namespace != ks[0].Namespace || svc.Namespace != ks[0].Namespace) {
		t.Errorf("serve in namespace %q/%q, the shipper in %q", dep.Namespace, svc.Namespace, ks[0].Namespace)
	}

	t.Run("evidence read-only", func(t *testing.T) {
		if len(o.Args) == 0 {
			t.Fatal("no SOURCE")
		}
		for _, src := range o.Args {
			m := underMount(ctr, path.Clean(src))
			if m == nil || !m.ReadOnly {
				t.Fatalf("SOURCE %s is not on a read-only mount (%+v)", src, m)
			}
			v := volume(spec, m.Name)
			switch {
			case v == nil:
				t.Fatalf("mount %s names no volume", m.Name)
			case v.PersistentVolumeClaim != nil:
				if !v.PersistentVolumeClaim.ReadOnly {
					t.Errorf("evidence claim %s is not readOnly", v.PersistentVolumeClaim.ClaimName)
				}
			case v.HostPath != nil:
			default:
				t.Errorf("evidence volume %s is neither a claim nor a host path: %+v", v.Name, v.VolumeSource)
			}
			for what, p := range map[string]string{"--data-dir": o.DataDir, "--spill-dir": o.SpillDir, "--access-log": o.AccessLog} {
				if p != "" && p != "-" && underMount(ctr, path.Clean(p)) == m {
					t.Errorf("%s %s is on the evidence mount", what, p)
				}
			}
		}
	})

	// The header says every audit file under the volume is served: an
	// archive of several nodes (a directory each, nothing at the top) is
	// read whole, not refused at start (a directory holding only
	// subdirectories is, without -r).
	t.Run("evidence tree", func(t *testing.T) {
		dir := t.TempDir()
		b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "nodes", "audit-cp1.log"))
		if err != nil {
			t.Fatal(err)
		}
		for _, node := range []string{"node-a", "node-b"} {
			if err := os.MkdirAll(filepath.Join(dir, node), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, node, "audit.log"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		args := make([]string, len(o.Args))
		for i, src := range o.Args {
			m := underMount(ctr, path.Clean(src))
			if m == nil {
				t.Fatalf("SOURCE %s is on no mount", src)
			}
			args[i] = filepath.Join(dir, strings.TrimPrefix(path.Clean(src), m.MountPath))
		}
		srcs, ok, err := o.Sources.Resolve(context.Background(), args)
		if err != nil || !ok || len(srcs) == 0 {
			t.Fatalf("serve %q over an evidence volume of node directories: %v (ok %v, %d sources)", o.Args, err, ok, len(srcs))
		}
	})

	t.Run("keys from a Secret", func(t *testing.T) {
		var mode int32 = -1
		for what, p := range map[string]string{"--authorized-keys": o.AuthorizedKeys, "--host-key": o.HostKey} {
			m := underMount(ctr, p)
			if m == nil || !m.ReadOnly {
				t.Fatalf("%s %s is not on a read-only mount", what, p)
			}
			v := volume(spec, m.Name)
			if v == nil || v.Secret == nil || v.Secret.SecretName == "" {
				t.Fatalf("%s %s is not from a Secret (%+v)", what, p, v)
			}
			rel := strings.TrimPrefix(p, path.Clean(m.MountPath)+"/")
			found := len(v.Secret.Items) == 0
			for _, it := range v.Secret.Items {
				if it.Path == rel {
					found = true
				}
			}
			if !found {
				t.Errorf("%s %s: no item of Secret %s is mounted at %s", what, p, v.Secret.SecretName, rel)
			}
			if v.Secret.DefaultMode != nil {
				mode = *v.Secret.DefaultMode
			}
		}
		if mode < 0 {
			t.Fatal("the keys volume sets no defaultMode (0644: serve refuses a host key others can read)")
		}
		// serve itself accepts a host key with the mounted mode, and the
		// group bit is only of use with fsGroup.
		hk := filepath.Join(t.TempDir(), "host_ed25519")
		if _, _, err := serve.HostKey(hk); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(hk, os.FileMode(mode)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := serve.HostKey(hk); err != nil {
			t.Errorf("serve refuses the host key as mounted (mode %04o): %v", mode, err)
		}
		if mode&0o040 != 0 && (spec.SecurityContext == nil || spec.SecurityContext.FSGroup == nil) {
			t.Errorf("mode %04o needs fsGroup to be readable by a non-root user", mode)
		}
	})

	t.Run("writable paths", func(t *testing.T) {
		for what, p := range map[string]string{"--spill-dir": o.SpillDir, "--access-log": o.AccessLog, "--data-dir": o.DataDir} {
			if p == "" || p == "-" {
				continue
			}
			if what == "--access-log" {
				p = path.Dir(p)
			}
			m := underMount(ctr, path.Clean(p))
			if m == nil || m.ReadOnly {
				t.Errorf("%s %s is not on a writable mount (the root filesystem is read-only)", what, p)
			}
		}
		if o.SpillDir == "" && (underMount(ctr, "/tmp") == nil || underMount(ctr, "/tmp").ReadOnly) {
			t.Error("no --spill-dir and no writable /tmp for the spill file")
		}
	})

	t.Run("security", func(t *testing.T) {
		psc, sc := spec.SecurityContext, ctr.SecurityContext
		if sc == nil {
			t.Fatal("no container securityContext")
		}
		nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
		uid := sc.RunAsUser
		if uid == nil && psc != nil {
			uid = psc.RunAsUser
		}
		if !nonRoot || uid == nil || *uid == 0 {
			t.Errorf("not pinned to a non-root user: runAsNonRoot %v, uid %v", nonRoot, uid)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Error("root filesystem not read-only")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Error("allowPrivilegeEscalation not false")
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Error("privileged")
		}
		if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
			t.Errorf("capabilities %+v, want drop ALL and nothing added", sc.Capabilities)
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Error("an API token is mounted; serve needs none")
		}
		if spec.HostNetwork || spec.HostPID || spec.HostIPC {
			t.Error("host namespaces")
		}
	})

	t.Run("service", func(t *testing.T) {
		_, port, err := net.SplitHostPort(o.Listen)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := strconv.Atoi(port)
		var ctrPort *corev1.ContainerPort
		for i, p := range ctr.Ports {
			if int(p.ContainerPort) == want {
				ctrPort = &ctr.Ports[i]
			}
		}
		if ctrPort == nil {
			t.Fatalf("no container port %d (--listen %s)", want, o.Listen)
		}
		for k, v := range svc.Spec.Selector {
			if dep.Spec.Template.Labels[k] != v {
				t.Errorf("Service selector %s=%s does not match the pod", k, v)
			}
		}
		for k, v := range dep.Spec.Selector.MatchLabels {
			if dep.Spec.Template.Labels[k] != v {
				t.Errorf("Deployment selector %s=%s does not match the pod", k, v)
			}
		}
		if len(svc.Spec.Ports) != 1 {
			t.Fatalf("Service ports %+v", svc.Spec.Ports)
		}
		tp := svc.Spec.Ports[0].TargetPort
		if (tp.Type == intstr.Int && tp.IntValue() != want) || (tp.Type == intstr.String && tp.StrVal != ctrPort.Name) {
			t.Errorf("Service targetPort %s does not reach port %d", tp.String(), want)
		}
		for name, pr := range map[string]*corev1.Probe{"readinessProbe": ctr.ReadinessProbe, "livenessProbe": ctr.LivenessProbe} {
			if pr == nil || pr.TCPSocket == nil {
				t.Errorf("%s is not a TCP probe", name)
				continue
			}
			if p := pr.TCPSocket.Port; (p.Type == intstr.Int && p.IntValue() != want) || (p.Type == intstr.String && p.StrVal != ctrPort.Name) {
				t.Errorf("%s probes %s, serve listens on %d", name, p.String(), want)
			}
		}
	})

	t.Run("image", func(t *testing.T) {
		version := changelogVersion(t)
		if ctr.Image != "ghcr.io/audittui/audittui:v"+version {
			t.Errorf("image %s, want ghcr.io/audittui/audittui:v%s", ctr.Image, version)
		}
		if ds := find[*appsv1.DaemonSet](t, docs); len(ds) == 1 && ds[0].Spec.Template.Spec.Containers[0].Image != ctr.Image {
			t.Errorf("serve runs %s, the shipper %s", ctr.Image, ds[0].Spec.Template.Spec.Containers[0].Image)
		}
	})
}
