// Package logql is audittui's LogQL subset: a hand-written parser and
// evaluator (Loki's own packages are AGPL) for the queries users copy from
// Grafana and Loki ruler files.
//
// Supported:
//   - stream selectors {job="audit", cluster=~"prod-.*"} (=, !=, =~, !~;
//     regexes fully anchored);
//   - line filters |= != |~ !~ (regexes unanchored, each with a literal
//     prefilter: a line without any literal every match needs is not run
//     through the expression; see regexlits.go), |= "a" or "b";
//   - | json (every field, flattened as Loki does: see FlattenJSON) and
//     | json a="x.y[0]", b (Loki JSON expressions: see CompileJSONPath),
//     lexed by internal/data/jsonscan, the scanner the decoder uses too;
//   - label filters = != =~ !~ == > >= < <= on strings, numbers, durations
//     and byte sizes, combined with and, or, ",", juxtaposition and
//     parentheses (and binds tighter than or), with Loki's semantics for
//     missing labels and __error__;
//   - | drop a, b and | keep a, b (label names only);
//   - | line_format "{{.verb}} {{.user_username}}" and
//     | label_format a="{{.x}}-{{.y}}", b=c (Go templates with a subset of
//     Loki's template functions, see templateFuncs; __line__ supported);
//   - count_over_time, rate, bytes_over_time, bytes_rate over [range] with
//     an optional offset; absent_over_time (1, with the selector's
//     equality matchers as labels, at each step whose window holds no
//     entry; see ReturnsWithoutEntries); sum, count, min, max, avg, topk,
//     bottomk with by or without before or after the argument; arithmetic
//     and comparisons with scalars (with the bool modifier);
//   - | unwrap label, | unwrap duration(label) (or duration_seconds: Go
//     durations in seconds), | unwrap bytes(label), followed only by
//     label filters, with rate (the per-second sum), sum_over_time,
//     avg_over_time, min_over_time, max_over_time, first_over_time,
//     last_over_time, stddev_over_time, stdvar_over_time and
//     quantile_over_time(φ, ...) (Prometheus's interpolation), with an
//     optional by/without after the parenthesis (samples of one time are
//     ordered by value, see compareSamples); the unwrapped label
//     leaves the series' labels, an entry without the label is skipped
//     and a value that does not convert is a 0 under
//     __error__="SampleExtractionErr", as Loki;
//   - binary operations between two vectors: + - * / % ^, comparisons
//     (bool too), and, or, unless, matching one-to-one on every label or
//     on (...)/ignoring (...), with PromQL's precedence. Each side may
//     have its own selector, pipeline, range and offset: the query's legs
//     (one range aggregation each) are evaluated side by side on the same
//     steps, every entry fed to each, and combined per step. A match group
//     with two series on one side is an error (Evaluator.Err), as Loki
//     refuses it.
//
// Not supported (rejected with a clear *ParseError): logfmt, pattern,
// regexp, unpack, rate_counter, group_left/group_right (many-to-one
// matching), subqueries.
//
// Log queries: Parse, then (*LogQuery).Matches on each Entry, with
// RequiredLiterals to prefilter raw lines. Metric queries: Parse, then a
// streaming Evaluator fed entries in time order (see NewRangeEvaluator).
package logql
