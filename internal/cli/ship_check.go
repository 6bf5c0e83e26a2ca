package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/ship"
	"github.com/audittui/audittui/internal/ship/config"
)

// runShipCheck is `audittui ship --check-config`: load the config and the
// flags as ship would, check everything ship checks before it starts
// reading, print the effective config with secrets redacted (stdout) and
// the problems (stderr). Exit 0 when ship would start, 2 when not.
func runShipCheck(cmd *cobra.Command, s *IO, o *ShipOptions) error {
	c, err := shipConfig(o, cmd)
	if err != nil {
		// Errors quote the values they reject: redact URLs and secrets.
		return &ExitError{Code: ExitUsage, Err: errors.New(config.RedactText(err.Error(), ship.EnvSecrets(os.LookupEnv)))}
	}
	r := ship.CheckConfig(c, os.LookupEnv)
	if _, err := s.Out.Write(r.Text()); err != nil {
		return err
	}
	where := "flags"
	if o.ConfigFile != "" {
		where = o.ConfigFile
	}
	if len(r.Problems) > 0 {
		for _, p := range r.Problems {
			fmt.Fprintf(s.Err, "audittui: ship: %s: %v\n", where, p)
		}
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("ship: %s: %d problem(s); ship would not start", where, len(r.Problems))}
	}
	fmt.Fprintf(s.Err, "audittui: ship: %s: OK\n", where)
	return nil
}
