package file

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// exportNames returns, for an export directory's copies, the filename
// label each was selected under (MANIFEST.json's entries: "path", the
// copy relative to dir, and "filename", the original's path as given or
// its s3:// URL), keyed by the copy's path under dir. An export made
// before they were recorded, or a manifest that cannot be read (verify
// says why), gives none: the copies are named by their own paths.
func exportNames(dir string) map[string]string {
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.json"))
	if err != nil {
		return nil
	}
	var m struct {
		Entries []struct {
			Path     string `json:"path"`
			Filename string `json:"filename"`
		} `json:"entries"`
	}
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	names := map[string]string{}
	for _, e := range m.Entries {
		if e.Filename != "" && filepath.IsLocal(filepath.FromSlash(e.Path)) {
			names[filepath.Join(dir, filepath.FromSlash(e.Path))] = e.Filename
		}
	}
	return names
}
