package ship

import (
	"fmt"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/plural"
	shipper "github.com/audittui/audittui/internal/ship"
)

// runCheck is `audittui ship --check-config`: load the config and the
// flags as ship would, check everything ship checks before it starts
// reading, print the effective config with secrets redacted (stdout) and
// the problems (stderr). Exit 0 when ship would start, 2 when not.
func runCheck(o *ShipOptions) error {
	c, err := shipConfig(o)
	if err != nil {
		// Errors quote the values they reject: redact URLs and secrets.
		return cmdutil.UsageError(redacted(o, err))
	}
	r := shipper.CheckConfig(c, o.LookupEnv)
	if _, err := o.IO.Out.Write(r.Text()); err != nil {
		return err
	}
	where := "flags"
	if o.ConfigFile != "" {
		where = o.ConfigFile
	}
	if len(r.Problems) > 0 {
		for _, p := range r.Problems {
			fmt.Fprintf(o.IO.ErrOut, "audittui: ship: %s: %v\n", where, p)
		}
		return cmdutil.UsageErrorf("ship: %s: %s; ship would not start", where, plural.Count(len(r.Problems), "problem", "problems"))
	}
	fmt.Fprintf(o.IO.ErrOut, "audittui: ship: %s: OK\n", where)
	return nil
}
