package config

// Overrides are command-line settings that replace config file options
// (`audittui ship --path ... --loki-url ...`). A nil field is not set.
type Overrides struct {
	Path, Cluster, StateDir, MetricsAddr, LogLevel *string
	LokiURL                                        *string
	S3Bucket, S3Endpoint, S3Region, StoreDir       *string
	NoRedact                                       *bool
}

// Apply sets the overridden options, creating the Loki or S3 section when
// a flag of it is given.
func (c *Config) Apply(o Overrides) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.Path, o.Path)
	set(&c.Cluster, o.Cluster)
	set(&c.StateDir, o.StateDir)
	set(&c.MetricsAddr, o.MetricsAddr)
	set(&c.LogLevel, o.LogLevel)
	if o.NoRedact != nil {
		v := !*o.NoRedact
		c.Redact = &v
	}
	if o.LokiURL != nil {
		if c.Loki == nil {
			c.Loki = &Loki{}
		}
		c.Loki.URL = *o.LokiURL
	}
	if o.S3Bucket != nil || o.S3Endpoint != nil || o.S3Region != nil || o.StoreDir != nil {
		if c.S3 == nil {
			c.S3 = &S3{}
		}
		set(&c.S3.Bucket, o.S3Bucket)
		set(&c.S3.Endpoint, o.S3Endpoint)
		set(&c.S3.Region, o.S3Region)
		set(&c.S3.StoreDir, o.StoreDir)
	}
}
