package ui

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Palette is the small set of semantic colours every style derives from.
type Palette struct {
	Fg, Muted, Accent, Good, Warn, Bad, Info, Special color.Color
	BarBg                                             color.Color
}

// DefaultPalette works on dark and light terminals (ANSI 16 colours, which
// the user's terminal theme maps).
func DefaultPalette() Palette {
	return Palette{
		Fg:      lipgloss.Color("7"),
		Muted:   lipgloss.Color("8"),
		Accent:  lipgloss.Color("6"),
		Good:    lipgloss.Color("2"),
		Warn:    lipgloss.Color("3"),
		Bad:     lipgloss.Color("1"),
		Info:    lipgloss.Color("4"),
		Special: lipgloss.Color("5"),
		BarBg:   lipgloss.Color("0"),
	}
}

// Styles is every style the panes use. Panes never build ad-hoc styles.
type Styles struct {
	NoColor bool

	Plain, Muted, Bold, Title, Header, Selected, Good lipgloss.Style
	// Escape marks sanitiser replacement tokens (\x1b, <U+202E>).
	Escape lipgloss.Style
	// Sample is the "SAMPLE DATA" banner.
	Sample lipgloss.Style
	// Mark is a bookmark's star and the Detail's case line.
	Mark  lipgloss.Style
	Error lipgloss.Style
	// DryRun marks a server-side dry run (Tail's "dry run", Detail's
	// line): a request that changed nothing.
	DryRun lipgloss.Style

	TabActive, TabInactive lipgloss.Style
	StatusBar, StatusKey   lipgloss.Style

	VerbRead, VerbWrite, VerbDelete, VerbExec lipgloss.Style
	Code2xx, Code3xx, Code4xx, Code5xx        lipgloss.Style

	SevCritical, SevWarning, SevInfo lipgloss.Style

	JSONKey, JSONString, JSONNumber, JSONBool, JSONNull, JSONPunct lipgloss.Style

	Bar, BarAlt lipgloss.Style
	// Heat are the heatmap shades, lowest first.
	Heat []lipgloss.Style

	HelpKey, HelpDesc lipgloss.Style
	// Match and MatchCurrent mark search matches (Detail's /).
	Match, MatchCurrent lipgloss.Style
}

// NewStyles builds the styles from a palette. With noColor (NO_COLOR set)
// no colour is used at all; emphasis uses bold, underline and reverse.
func NewStyles(p Palette, noColor bool) *Styles {
	fg := func(c color.Color) lipgloss.Style {
		if noColor {
			return lipgloss.NewStyle()
		}
		return lipgloss.NewStyle().Foreground(c)
	}
	s := &Styles{NoColor: noColor}
	s.Plain = lipgloss.NewStyle()
	s.Muted = fg(p.Muted)
	if noColor {
		s.Muted = lipgloss.NewStyle().Faint(true)
	}
	s.Bold = lipgloss.NewStyle().Bold(true)
	s.Good = fg(p.Good)
	s.Title = fg(p.Accent).Bold(true)
	s.Header = fg(p.Accent).Bold(true).Underline(true)
	s.Selected = lipgloss.NewStyle().Reverse(true)
	s.Escape = fg(p.Special).Underline(true)
	s.Sample = fg(p.Warn).Bold(true).Reverse(true)
	s.Mark = fg(p.Special).Bold(true)
	s.Error = fg(p.Bad).Bold(true)
	s.DryRun = fg(p.Info).Italic(true)
	s.TabActive = fg(p.Accent).Bold(true).Reverse(true).Padding(0, 1)
	s.TabInactive = fg(p.Muted).Padding(0, 1)
	if noColor {
		s.TabInactive = lipgloss.NewStyle().Padding(0, 1)
	}
	s.StatusBar = lipgloss.NewStyle().Reverse(true)
	s.StatusKey = lipgloss.NewStyle().Reverse(true).Bold(true)

	s.VerbRead = fg(p.Info)
	s.VerbWrite = fg(p.Warn)
	s.VerbDelete = fg(p.Bad)
	s.VerbExec = fg(p.Special).Bold(true)
	s.Code2xx = fg(p.Good)
	s.Code3xx = fg(p.Info)
	s.Code4xx = fg(p.Warn).Bold(true)
	s.Code5xx = fg(p.Bad).Bold(true)

	s.SevCritical = fg(p.Bad).Bold(true)
	s.SevWarning = fg(p.Warn).Bold(true)
	s.SevInfo = fg(p.Info)

	s.JSONKey = fg(p.Accent)
	s.JSONString = fg(p.Good)
	s.JSONNumber = fg(p.Info)
	s.JSONBool = fg(p.Warn)
	s.JSONNull = fg(p.Muted)
	s.JSONPunct = lipgloss.NewStyle()

	s.Bar = fg(p.Accent)
	s.BarAlt = fg(p.Warn)
	if noColor {
		s.Heat = []lipgloss.Style{lipgloss.NewStyle()}
	} else {
		for _, c := range []string{"8", "4", "6", "3", "1"} {
			s.Heat = append(s.Heat, lipgloss.NewStyle().Foreground(lipgloss.Color(c)))
		}
	}
	s.HelpKey = fg(p.Accent).Bold(true)
	s.HelpDesc = lipgloss.NewStyle()
	s.Match = lipgloss.NewStyle().Underline(true).Bold(true)
	s.MatchCurrent = lipgloss.NewStyle().Reverse(true).Bold(true)
	return s
}

// VerbStyle colours a verb by class: reads, writes, deletes, exec-like.
func (s *Styles) VerbStyle(verb string) lipgloss.Style {
	switch verb {
	case "get", "list", "watch":
		return s.VerbRead
	case "create", "update", "patch":
		return s.VerbWrite
	case "delete", "deletecollection":
		return s.VerbDelete
	case "impersonate", "escalate", "bind", "approve", "sign":
		return s.VerbExec
	}
	return s.Plain
}

// CodeStyle colours an HTTP status code.
func (s *Styles) CodeStyle(code int) lipgloss.Style {
	switch {
	case code >= 500:
		return s.Code5xx
	case code >= 400:
		return s.Code4xx
	case code >= 300:
		return s.Code3xx
	case code >= 200:
		return s.Code2xx
	}
	return s.Muted
}

// SeverityStyle colours an alert severity label.
func (s *Styles) SeverityStyle(sev string) lipgloss.Style {
	switch sev {
	case "critical", "page", "high", "error":
		return s.SevCritical
	case "warning", "warn", "medium":
		return s.SevWarning
	}
	return s.SevInfo
}

// Safe renders untrusted text with escapes highlighted, cut to width cells.
func (s *Styles) Safe(text string, width int, base lipgloss.Style) string {
	return SafeText(text, width, base, s.Escape)
}
