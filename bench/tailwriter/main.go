// Command tailwriter appends the lines of a file to another at a fixed
// rate, as an apiserver writing audit.log would, for bench/tui.sh's
// live-tail run. It prints how many lines it wrote.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	src := flag.String("from", "", "file whose lines are appended")
	dst := flag.String("to", "", "file to append to")
	rate := flag.Int("rate", 20000, "lines per second")
	seconds := flag.Int("seconds", 10, "how long to write")
	flag.Parse()
	if err := run(*src, *dst, *rate, *seconds); err != nil {
		fmt.Fprintln(os.Stderr, "tailwriter:", err)
		os.Exit(1)
	}
}

func run(src, dst string, rate, seconds int) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", dst, err)
	}
	defer out.Close()
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 16<<20)
	w := bufio.NewWriterSize(out, 1<<20)
	// Write in 10 ms ticks: rate/100 lines each, flushed whole lines only.
	per := max(1, rate/100)
	total := rate * seconds
	written := 0
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for written < total {
		<-tick.C
		for k := 0; k < per && written < total; k++ {
			if !sc.Scan() {
				if err := sc.Err(); err != nil {
					return err
				}
				if _, err := in.Seek(0, 0); err != nil {
					return err
				}
				sc = bufio.NewScanner(in)
				sc.Buffer(nil, 16<<20)
				if !sc.Scan() {
					return fmt.Errorf("%s is empty", src)
				}
			}
			w.Write(sc.Bytes())
			w.WriteByte('\n')
			written++
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	fmt.Println(written)
	return nil
}
