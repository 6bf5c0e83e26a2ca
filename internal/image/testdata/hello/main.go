// Command hello is a small static program for internal/image's tests: it
// stands in for the audittui binary where only the image's structure matters.
package main

import (
	"fmt"

	"github.com/audittui/audittui/internal/buildinfo"
)

func main() { fmt.Print(buildinfo.Get().Text()) }
