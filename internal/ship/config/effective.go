package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Redacted replaces secrets in printed configs.
const Redacted = "xxxxx"

// Effective renders the config as YAML, options in the order of the Config
// type, with sizes and durations written as the file would (16M, 5s). It is
// for `audittui ship --check-config`: passwords in URLs (user:xxxxx@host)
// and secret-looking query parameters are redacted, and so is every
// occurrence of each string in secrets (values from LOKI_PASSWORD,
// LOKI_BEARER_TOKEN, token files, AWS keys) wherever it was substituted.
// The output loads again as a config.
func (c *Config) Effective(secrets []string) ([]byte, error) {
	cp := *c
	if c.Loki != nil {
		l := *c.Loki
		l.URL = RedactURL(l.URL)
		cp.Loki = &l
	}
	if c.S3 != nil {
		s := *c.S3
		s.Endpoint = RedactURL(s.Endpoint)
		cp.S3 = &s
	}
	js, err := json.Marshal(&cp)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	node, err := jsonNode(dec)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return RedactSecrets(buf.Bytes(), secrets), nil
}

// RedactSecrets replaces every occurrence of each secret of 4 or more
// bytes (shorter ones would garble the text and are no protection anyway).
func RedactSecrets(b []byte, secrets []string) []byte {
	// Longest first, so a secret containing another is replaced whole.
	ss := append([]string(nil), secrets...)
	sort.Slice(ss, func(i, j int) bool { return len(ss[i]) > len(ss[j]) })
	for _, s := range ss {
		if len(s) < 4 {
			continue
		}
		b = bytes.ReplaceAll(b, []byte(s), []byte(Redacted))
	}
	return b
}

// userinfo is the user:password@ of a URL.
var userinfo = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://[^/?#@:\s]*):[^/?#@\s]*@`)

// urlInText finds URLs in free text (error messages).
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// RedactText redacts URLs in free text (error messages quote the options
// they reject) as RedactURL does, and every secret as RedactSecrets does.
func RedactText(s string, secrets []string) string {
	s = urlInText.ReplaceAllStringFunc(s, RedactURL)
	return string(RedactSecrets([]byte(s), secrets))
}

// secretParam tells whether a URL query parameter name looks like it holds
// a credential (token=, api_key=, X-Amz-Signature=, password=, ...).
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"token", "key", "secret", "password", "passwd", "pwd", "signature", "credential", "auth", "sig"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// RedactURL hides the password of user:password@host and the values of
// secret-looking query parameters. Text that is not a URL is returned
// unchanged.
func RedactURL(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		// Not a URL Go parses (a bad port, say): still no password.
		return userinfo.ReplaceAllString(s, "${1}:"+Redacted+"@")
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k, vs := range q {
			if secretParam(k) {
				for i := range vs {
					vs[i] = Redacted
				}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}

// jsonNode turns JSON (read token by token, so object keys keep their
// order) into a YAML node.
func jsonNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := jsonNode(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kt.(string)}, v)
			}
			_, err := dec.Token() // }
			return n, err
		case '[':
			n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			for dec.More() {
				v, err := jsonNode(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			_, err := dec.Token() // ]
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(t.String(), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// MarshalJSON writes a size as the config file would: 16M, 1G, 64K or a
// number of bytes.
func (s Size) MarshalJSON() ([]byte, error) {
	v := int64(s)
	switch {
	case v != 0 && v%(1<<30) == 0:
		return json.Marshal(fmt.Sprintf("%dG", v>>30))
	case v != 0 && v%(1<<20) == 0:
		return json.Marshal(fmt.Sprintf("%dM", v>>20))
	case v != 0 && v%(1<<10) == 0:
		return json.Marshal(fmt.Sprintf("%dK", v>>10))
	}
	return json.Marshal(v)
}

// MarshalJSON writes a duration as 5s, 1m, 1h30m or 500ms.
func (d Duration) MarshalJSON() ([]byte, error) {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return json.Marshal(s)
}

// MarshalJSON writes labels as a map in their order ({} when none: the
// decoder takes no null).
func (m LabelMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, l := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(l.Name)
		v, _ := json.Marshal(l.Value)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
