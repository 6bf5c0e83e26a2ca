package loki

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPKI is a CA with a server and a client certificate, generated at
// test time and written as PEM files.
type testPKI struct {
	dir                       string
	caPath, certPath, keyPath string // CA; client cert and key
	serverCert                tls.Certificate
	pool                      *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "audittui test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			DNSNames:     []string{"localhost"},
			IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	p := &testPKI{dir: dir, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	write := func(name, typ string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	p.caPath = write("ca.pem", "CERTIFICATE", caDER)
	srvDER, srvKey := issue(2, "localhost", x509.ExtKeyUsageServerAuth)
	p.serverCert = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, "audittui-client", x509.ExtKeyUsageClientAuth)
	p.certPath = write("client.pem", "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	p.keyPath = write("client-key.pem", "EC PRIVATE KEY", keyDER)
	return p
}

func TestTLSWithTestCAAndClientCert(t *testing.T) {
	pki := newTestPKI(t)
	var gotCN string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 {
			gotCN = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.serverCert}, ClientCAs: pki.pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()

	c, err := NewClient(Config{Addr: srv.URL, CACertPath: pki.caPath, ClientCertPath: pki.certPath, ClientKeyPath: pki.keyPath})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Push(context.Background(), samplePush()); err != nil {
		t.Fatalf("push over mutual TLS: %v", err)
	}
	if gotCN != "audittui-client" {
		t.Errorf("server saw client CN %q", gotCN)
	}

	// lokis:// means https.
	c2, err := NewClient(Config{Addr: strings.Replace(srv.URL, "https://", "lokis://", 1), CACertPath: pki.caPath, ClientCertPath: pki.certPath, ClientKeyPath: pki.keyPath})
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Push(context.Background(), samplePush()); err != nil {
		t.Fatalf("lokis://: %v", err)
	}

	// Without the CA the certificate is unknown: a clear, non-retryable error.
	c3, _ := NewClient(Config{Addr: srv.URL, ClientCertPath: pki.certPath, ClientKeyPath: pki.keyPath})
	err = c3.Push(context.Background(), samplePush())
	if err == nil || IsRetryable(err) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without CA: err = %v, retryable = %v", err, IsRetryable(err))
	}

	// Skip-verify accepts it (the server still wants a client cert).
	c4, _ := NewClient(Config{Addr: srv.URL, InsecureSkipVerify: true, ClientCertPath: pki.certPath, ClientKeyPath: pki.keyPath})
	if err := c4.Push(context.Background(), samplePush()); err != nil {
		t.Errorf("skip verify: %v", err)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for name, cfg := range map[string]Config{
		"missing CA":         {Addr: "h", CACertPath: filepath.Join(dir, "nope.pem")},
		"CA not PEM":         {Addr: "h", CACertPath: notPEM},
		"cert without key":   {Addr: "h", ClientCertPath: notPEM},
		"bad key pair":       {Addr: "h", ClientCertPath: notPEM, ClientKeyPath: notPEM},
		"two auths":          {Addr: "h", Username: "u", BearerToken: "t"},
		"token and file":     {Addr: "h", BearerToken: "t", BearerTokenFile: notPEM},
		"missing token file": {Addr: "h", BearerTokenFile: filepath.Join(dir, "nope")},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewClient(cfg); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestBearerTokenFile(t *testing.T) {
	rec := &pushRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "token")
	os.WriteFile(path, []byte("secret-1\n"), 0o600)
	c, err := NewClient(Config{Addr: srv.URL, BearerTokenFile: path, TenantID: "a|b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Push(context.Background(), samplePush()); err != nil {
		t.Fatal(err)
	}
	if got := rec.reqs[0].Header.Get("Authorization"); got != "Bearer secret-1" {
		t.Errorf("Authorization = %q", got)
	}
	if got := rec.reqs[0].Header.Get("X-Scope-OrgID"); got != "a|b" {
		t.Errorf("X-Scope-OrgID = %q", got)
	}
}
