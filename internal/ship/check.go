package ship

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/audittui/audittui/internal/buildinfo"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/ship/config"
)

// CheckReport is what `audittui ship --check-config` prints.
type CheckReport struct {
	// Config is the effective config (defaults applied, flags applied) as
	// YAML, with secrets redacted.
	Config []byte
	// Credentials says where each credential comes from; never a value.
	Credentials []string
	// Problems are what would stop ship from starting, each naming the
	// option.
	Problems []error
	// Warnings are what ship would start with but should not (disk limits
	// above the free space, a symlinked Path Rotated_path does not cover);
	// printed as comments.
	Warnings []string
}

// CheckConfig validates c (defaults applied) as Run would before it starts
// reading, without starting anything: the options, the label keys, the S3
// key format and its ${ENV} variables, the Loki client settings (TLS files,
// password and token files, basic auth and bearer token not both) and the
// Redact_key_file. Files the config names must exist where the check runs
// (in the pod: kubectl exec ... audittui ship --config ... --check-config).
func CheckConfig(c *config.Config, getenv func(string) (string, bool)) *CheckReport {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	env := func(k string) string { v, _ := getenv(k); return v }
	r := &CheckReport{}
	if err := c.Validate(); err != nil {
		r.Problems = append(r.Problems, unjoin(err)...)
	}
	if _, _, _, err := fieldPlan(c); err != nil {
		r.Problems = append(r.Problems, err)
	}
	if c.RedactKeyFile != "" {
		if b, err := os.ReadFile(c.RedactKeyFile); err != nil {
			r.Problems = append(r.Problems, fmt.Errorf("option Redact_key_file: %w", err))
		} else if len(bytes.TrimSpace(b)) == 0 {
			r.Problems = append(r.Problems, fmt.Errorf("option Redact_key_file: %s is empty", c.RedactKeyFile))
		}
	}
	// Secret values to keep out of the printed config.
	secrets := EnvSecrets(getenv)

	if l := c.Loki; l != nil {
		lc, err := LokiClientConfig(l, getenv)
		if err != nil {
			r.Problems = append(r.Problems, err)
		} else {
			secrets = append(secrets, lc.Password, lc.BearerToken)
			if lc.BearerTokenFile != "" {
				if b, err := os.ReadFile(lc.BearerTokenFile); err == nil {
					secrets = append(secrets, strings.TrimSpace(string(b)))
				}
			}
			if _, err := loki.NewClient(lc); err != nil {
				r.Problems = append(r.Problems, fmt.Errorf("option Loki: %w", err))
			}
			r.Credentials = append(r.Credentials, lokiCredentials(l, lc, env)...)
		}
	}
	if s := c.S3; s != nil {
		if _, err := s3key.Parse(s.KeyFormat, s3key.ParseOptions{LookupEnv: getenv}); err != nil {
			r.Problems = append(r.Problems, fmt.Errorf("option S3.S3_key_format: %w", err))
		}
		r.Credentials = append(r.Credentials, s3Credentials(env))
	}
	r.Warnings = append(r.Warnings, StartWarnings(c)...)
	out, err := c.Effective(secrets)
	if err != nil {
		r.Problems = append(r.Problems, fmt.Errorf("print config: %w", err))
	}
	r.Config = out
	// Error messages quote the values they reject: redact them too.
	for i, p := range r.Problems {
		if red := config.RedactText(p.Error(), secrets); red != p.Error() {
			r.Problems[i] = errors.New(red)
		}
	}
	return r
}

// EnvSecrets returns the secret values the environment holds (LOKI_PASSWORD,
// LOKI_BEARER_TOKEN, AWS keys), to redact from printed text.
func EnvSecrets(getenv func(string) (string, bool)) []string {
	var out []string
	for _, k := range []string{"LOKI_PASSWORD", "LOKI_BEARER_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if v, ok := getenv(k); ok && v != "" {
			out = append(out, v)
		}
	}
	return out
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func lokiCredentials(l *config.Loki, lc loki.Config, env func(string) string) []string {
	var out []string
	from := func(option, value, envName string) string {
		if value != "" {
			return option
		}
		return envName
	}
	switch {
	case lc.Username != "" || lc.Password != "":
		pw := "no password"
		switch {
		case l.PasswordFile != "":
			pw = "password from " + l.PasswordFile + " (Password_file)"
		case lc.Password != "":
			pw = "password from LOKI_PASSWORD"
		}
		user := "no user name"
		if lc.Username != "" {
			user = fmt.Sprintf("user %q (%s)", lc.Username, from("Username", l.Username, "LOKI_USERNAME"))
		}
		out = append(out, fmt.Sprintf("Loki: basic auth, %s, %s", user, pw))
	case lc.BearerTokenFile != "":
		src := "Bearer_token_file"
		if l.BearerTokenFile == "" {
			src = "LOKI_BEARER_TOKEN_FILE"
		}
		out = append(out, fmt.Sprintf("Loki: bearer token read from %s (%s) at every request", lc.BearerTokenFile, src))
	case lc.BearerToken != "":
		out = append(out, "Loki: bearer token from LOKI_BEARER_TOKEN")
	default:
		out = append(out, "Loki: no authentication")
	}
	if lc.TenantID != "" {
		out = append(out, fmt.Sprintf("Loki: tenant %q (%s)", lc.TenantID, from("Tenant_id", l.TenantID, "LOKI_ORG_ID")))
	}
	if lc.ClientCertPath != "" {
		out = append(out, fmt.Sprintf("Loki: client certificate %s, key %s", lc.ClientCertPath, lc.ClientKeyPath))
	}
	return out
}

// s3Credentials names the first source of the AWS default credential chain
// that the environment provides (the chain itself is only consulted when
// ship starts).
func s3Credentials(env func(string) string) string {
	switch {
	case env("AWS_ACCESS_KEY_ID") != "" && env("AWS_SECRET_ACCESS_KEY") != "":
		s := "S3: static keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
		if env("AWS_SESSION_TOKEN") != "" {
			s += " with AWS_SESSION_TOKEN"
		}
		return s
	case env("AWS_WEB_IDENTITY_TOKEN_FILE") != "":
		return fmt.Sprintf("S3: web identity (IRSA), role %s, token file %s", env("AWS_ROLE_ARN"), env("AWS_WEB_IDENTITY_TOKEN_FILE"))
	case env("AWS_CONTAINER_CREDENTIALS_FULL_URI") != "" || env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != "":
		return "S3: container credentials (EKS Pod Identity / ECS)"
	case env("AWS_PROFILE") != "":
		return fmt.Sprintf("S3: shared config profile %q", env("AWS_PROFILE"))
	}
	return "S3: AWS default chain (shared config files, then the instance role)"
}

// Text is the report as printed: the config, then the credential sources
// as comments (so the output still loads as a config).
func (r *CheckReport) Text() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Effective configuration, defaults applied; secrets are shown as %s.\n# %s\n", config.Redacted, buildinfo.Get())
	b.Write(r.Config)
	if len(r.Credentials) > 0 {
		b.WriteString("# Credentials (never printed):\n")
		for _, c := range r.Credentials {
			b.WriteString("#   " + c + "\n")
		}
	}
	for _, w := range r.Warnings {
		b.WriteString("# WARNING: " + w + "\n")
	}
	return b.Bytes()
}

// Err joins the problems (nil when there are none).
func (r *CheckReport) Err() error { return errors.Join(r.Problems...) }
