// Command mkimage builds audittui's container image from a static binary
// without a container daemon (see internal/image) and writes it as an OCI
// archive. `make image` runs it:
//
//	mkimage -binary bin/image/linux-amd64/audittui -out bin/audittui-image.tar \
//	        -version $VERSION -commit $COMMIT -commit-time $COMMIT_TIME -dirty $DIRTY
//
// It prints the image reference, the manifest digest and the archive's
// sha256; the same binary and CA bundle always give the same ones.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/audittui/audittui/internal/image"
)

func main() {
	var o image.Options
	var out, created string
	flag.StringVar(&o.Binary, "binary", "", "static linux audittui binary (CGO_ENABLED=0)")
	flag.StringVar(&out, "out", "audittui-image.tar", "archive to write (OCI layout + Docker manifest.json in a tar)")
	flag.StringVar(&o.Repo, "repo", "ghcr.io/audittui/audittui", "image name without tag")
	flag.StringVar(&o.Tag, "tag", "", "image tag (default: the binary's version)")
	flag.StringVar(&o.Source, "source", "https://github.com/audittui/audittui", "org.opencontainers.image.source")
	flag.StringVar(&o.CABundle, "ca-bundle", "/etc/ssl/certs/ca-certificates.crt", `CA certificates copied into the image ("" for none)`)
	flag.StringVar(&created, "created", "", "RFC 3339 creation time (default: the binary's commit time)")
	flag.StringVar(&o.LDFlags.Version, "version", "", "the version the binary was built with (-X ...buildinfo.version); -trimpath builds do not record -ldflags")
	flag.StringVar(&o.LDFlags.Commit, "commit", "", "the commit the binary was built with (-X ...buildinfo.commit)")
	flag.StringVar(&o.LDFlags.Time, "commit-time", "", "the commit time the binary was built with (-X ...buildinfo.commitTime)")
	flag.StringVar(&o.LDFlags.Dirty, "dirty", "", "the dirty flag the binary was built with (-X ...buildinfo.dirty)")
	flag.Parse()
	if o.Binary == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: mkimage -binary PATH [-out FILE] [-repo NAME] [-tag TAG] [-source URL] [-ca-bundle FILE]")
		os.Exit(2)
	}
	if created != "" {
		t, err := time.Parse(time.RFC3339, created)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mkimage: -created %q: %v\n", created, err)
			os.Exit(2)
		}
		o.Created = t
	}
	r, err := image.Build(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	digest, err := r.Image.Digest()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	sum, size, err := image.WriteFile(out, r)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	fmt.Printf("image    %s\n", r.Ref.Name())
	fmt.Printf("digest   %s\n", digest)
	fmt.Printf("archive  %s (%d bytes, %s)\n", out, size, sum)
	fmt.Printf("version  %s  commit %s  created %s\n", r.Info.Version, r.Info.Commit, r.Info.TimeString())
}
