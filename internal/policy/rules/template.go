package rules

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
)

// annotationTemplate is one annotation value compiled the way Prometheus
// and Loki's ruler expand them: Go text/template with $labels, $value,
// $externalLabels and $externalURL defined before the text.
type annotationTemplate struct {
	tmpl *template.Template
}

// templateData is what the header's variables are bound to.
type templateData struct {
	Labels         map[string]string
	ExternalLabels map[string]string
	ExternalURL    string
	Value          float64
}

const templateHeader = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

var templateFuncs = template.FuncMap{
	"toUpper": strings.ToUpper,
	"toLower": strings.ToLower,
	"title": func(s string) string {
		prev := ' '
		return strings.Map(func(r rune) rune {
			out := r
			if unicode.IsSpace(prev) || prev == '-' || prev == '_' {
				out = unicode.ToTitle(r)
			}
			prev = r
			return out
		}, s)
	},
	"match": regexp.MatchString,
	"reReplaceAll": func(pattern, repl, text string) (string, error) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return "", err
		}
		return re.ReplaceAllString(text, repl), nil
	},
	"humanize":           humanize,
	"humanizeDuration":   humanizeDuration,
	"humanizePercentage": func(v float64) string { return humanize(v*100) + "%" },
	"stripPort": func(hostport string) string {
		if i := strings.LastIndex(hostport, ":"); i > 0 && !strings.Contains(hostport[i:], "]") {
			return hostport[:i]
		}
		return hostport
	},
}

func newAnnotationTemplate(name, text string) (*annotationTemplate, error) {
	t, err := template.New(name).Option("missingkey=zero").Funcs(templateFuncs).Parse(templateHeader + text)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	return &annotationTemplate{tmpl: t}, nil
}

// render expands the template. A failing template does not hide the
// alert: like Prometheus, the error text becomes the annotation.
func (a *annotationTemplate) render(labels map[string]string, value float64, external map[string]string) string {
	var b strings.Builder
	data := templateData{Labels: labels, ExternalLabels: external, Value: value}
	if err := a.tmpl.Execute(&b, data); err != nil {
		return "<error expanding template: " + err.Error() + ">"
	}
	return b.String()
}

// humanize prints v with an SI prefix (1.5k, 2M), as Prometheus does.
func humanize(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v)
	}
	abs := math.Abs(v)
	if abs >= 1 {
		prefixes := []string{"", "k", "M", "G", "T", "P", "E"}
		i := 0
		for abs >= 1000 && i < len(prefixes)-1 {
			abs /= 1000
			v /= 1000
			i++
		}
		return fmt.Sprintf("%.4g%s", v, prefixes[i])
	}
	prefixes := []string{"", "m", "u", "n", "p", "f", "a"}
	i := 0
	for abs < 1 && i < len(prefixes)-1 {
		abs *= 1000
		v *= 1000
		i++
	}
	return fmt.Sprintf("%.4g%s", v, prefixes[i])
}

// humanizeDuration prints seconds as "1h 2m 3s".
func humanizeDuration(seconds float64) string {
	if math.IsNaN(seconds) || math.IsInf(seconds, 0) {
		return strconv.FormatFloat(seconds, 'g', -1, 64)
	}
	d := time.Duration(seconds * float64(time.Second)).Round(time.Millisecond)
	if d < time.Second {
		return d.String()
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	s := d / time.Second
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf("%dm", m))
	}
	if s > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%ds", s))
	}
	return strings.Join(parts, " ")
}

// render returns an alert's labels (the sample's labels, then the rule's
// labels, expanded, on top) and its expanded annotations, as Prometheus
// builds them: templates see the sample's labels and value.
func (r *Rule) render(sample map[string]string, value float64) (labels, annotations map[string]string) {
	return r.renderExt(sample, value, nil)
}

// renderExt is render with $externalLabels.
func (r *Rule) renderExt(sample map[string]string, value float64, external map[string]string) (labels, annotations map[string]string) {
	labels = make(map[string]string, len(sample)+len(r.Labels))
	for k, v := range sample {
		labels[k] = v
	}
	for k, v := range r.Labels {
		if t := r.labelTemplates[k]; t != nil {
			v = t.render(sample, value, external)
		}
		labels[k] = v
	}
	annotations = make(map[string]string, len(r.Annotations))
	for k, v := range r.Annotations {
		if t := r.templates[k]; t != nil {
			v = t.render(sample, value, external)
		}
		annotations[k] = v
	}
	return labels, annotations
}
