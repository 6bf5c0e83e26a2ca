package history

import "testing"

// BenchmarkBuild builds the fixture's four histories.
func BenchmarkBuild(b *testing.B) {
	evs := readFixture(b, fixture)
	for b.Loop() {
		for _, spec := range []string{"secret/db-password", "cm/payments-config", "deploy/web", "certificates.cert-manager.io/api-tls"} {
			ref, _ := ParseRef(spec, "payments")
			bl := NewBuilder(ref, Options{})
			for k := range evs {
				bl.Add(&evs[k])
			}
			_ = bl.Build()
		}
	}
}
