package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/audittui/audittui/internal/testutil"
)

// The sample config in deploy/ loads, validates, and is the same text the
// ConfigMap carries.
func TestDeploySample(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(), "deploy")
	c, err := Load(filepath.Join(dir, "ship.yaml"), env(map[string]string{"CLUSTER_NAME": "prod-eu-1", "NODE_NAME": "cp-node-1"}))
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Loki.URL != "http://loki.logging.svc.cluster.local:3100" || c.Cluster != "prod-eu-1" || c.S3.Bucket != "kubernetes-audit-logs" {
		t.Errorf("sample config: %+v", c)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "ship.yaml"))
	cmText, _ := os.ReadFile(filepath.Join(dir, "configmap.yaml"))
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(cmText, &cm); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(cm.Data["ship.yaml"]) != strings.TrimSpace(string(raw)) {
		t.Error("deploy/configmap.yaml does not carry deploy/ship.yaml")
	}
	for _, f := range []string{"daemonset.yaml", "serviceaccount.yaml", "audit-policy.yaml", "kustomization.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := yaml.Unmarshal(b, &v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
