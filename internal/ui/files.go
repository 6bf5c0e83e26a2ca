package ui

// writeDir resolves a directory the user named for a write (the case
// file of --case and :case, the directory of :export) through
// Options.Write, the one write policy: it creates the directory and
// returns its path, or says why it may not be written (writes off, a path
// outside the per-key directory of audittui serve, a symbolic link, ...).
// It does I/O: call it from a tea.Cmd, never from Update.
func (a *App) writeDir(path string) (string, error) {
	w := a.opts.Write
	if w == nil {
		w = WritesOff{}
	}
	d, err := w.Dir(path)
	if err != nil {
		return "", err
	}
	p := d.Path
	d.Close()
	return p, nil
}
