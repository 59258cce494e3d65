// Command isowalk opens an ISO 9660 image with pxekit's isofs, walks its
// whole tree through fs.FS and reads every regular file to the end, as a
// server that serves the image does: the process BenchmarkWalkProcess
// times against cat(1) of the same image.
//
//	isowalk IMAGE
//
// It prints the number of entries and of bytes read to standard error
// when -v is given.
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/pxekit/pxekit/isofs"
)

func main() {
	verbose := flag.Bool("v", false, "print the number of entries and bytes read")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: isowalk [-v] IMAGE")
		os.Exit(2)
	}
	entries, bytes, err := walk(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "isowalk:", err)
		os.Exit(1)
	}
	if *verbose {
		fmt.Fprintf(os.Stderr, "%d entries, %d bytes\n", entries, bytes)
	}
}

func walk(name string) (entries int, bytes int64, err error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	fsys, err := isofs.Open(f)
	if err != nil {
		return 0, 0, err
	}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		entries++
		if !d.Type().IsRegular() {
			return nil
		}
		file, err := fsys.Open(p)
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, file)
		file.Close()
		bytes += n
		return err
	})
	return entries, bytes, err
}
