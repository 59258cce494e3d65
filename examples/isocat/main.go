// Command isocat lists the files of an ISO 9660 image, prints one of them,
// or extracts one, without mounting the image. It uses package isofs.
//
//	isocat debian.iso                          # list every file
//	isocat -l debian.iso install.amd           # list one directory
//	isocat debian.iso isolinux/isolinux.cfg    # print a file
//	isocat -o vmlinuz debian.iso install.amd/vmlinuz
//	isocat -boot debian.iso                    # El Torito boot catalog
//	isocat -names joliet -o efi.img debian.iso '[BOOT]/2-efi.img'
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"text/tabwriter"

	"github.com/pxekit/pxekit/isofs"
)

func main() {
	var (
		list  = flag.Bool("l", false, "list the named directory (or the whole image) instead of printing a file")
		out   = flag.String("o", "", "write the file here instead of standard output")
		boot  = flag.Bool("boot", false, "print the El Torito boot catalog")
		names = flag.String("names", "auto", "directory tree to show: auto, rockridge, joliet or plain")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: isocat [flags] IMAGE [PATH]\n\n"+
			"Without PATH (or with -l) isocat lists the image; with PATH it prints that file.\n"+
			"El Torito boot images are files in the directory [BOOT].\n\nflags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *names, *out, *list, *boot); err != nil {
		fmt.Fprintln(os.Stderr, "isocat:", err)
		os.Exit(1)
	}
}

func run(image, name, names, out string, list, boot bool) error {
	opts := isofs.Options{BootDir: "[BOOT]"}
	switch names {
	case "auto":
	case "rockridge":
		opts.Names = isofs.NamesRockRidge
	case "joliet":
		opts.Names = isofs.NamesJoliet
	case "plain":
		opts.Names = isofs.NamesPlain
	default:
		return fmt.Errorf("unknown -names %q", names)
	}
	f, err := os.Open(image)
	if err != nil {
		return err
	}
	defer f.Close()
	fsys, err := isofs.OpenWith(f, opts)
	if err != nil {
		return err
	}
	switch {
	case boot:
		return printBoot(fsys)
	case list || name == "":
		if name == "" {
			name = "."
		}
		return printTree(fsys, name)
	}
	return copyFile(fsys, name, out)
}

func printTree(fsys *isofs.FS, root string) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 1, ' ', tabwriter.AlignRight)
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := p
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := fsys.ReadLink(p)
			if err != nil {
				return err
			}
			line += " -> " + target
		}
		fmt.Fprintf(w, "%v\t%d\t %s\t %s\n", info.Mode(), info.Size(), info.ModTime().Format("2006-01-02 15:04"), line)
		return nil
	})
	return errors.Join(err, w.Flush())
}

func printBoot(fsys *isofs.FS) error {
	imgs, err := fsys.BootImages()
	if err != nil {
		return err
	}
	if len(imgs) == 0 {
		fmt.Println("no El Torito boot catalog")
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "FILE\tPLATFORM\tBOOTABLE\tEMULATION\tSEGMENT\tSECTORS\tLBA\tSIZE")
	for _, b := range imgs {
		fmt.Fprintf(w, "[BOOT]/%s\t%v\t%v\t%d\t%#x\t%d\t%d\t%d\n", b.Name, b.Platform, b.Bootable, b.Emulation, b.LoadSegment, b.SectorCount, b.LBA, b.Size)
	}
	return w.Flush()
}

func copyFile(fsys *isofs.FS, name, out string) error {
	src, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	var dst io.Writer = os.Stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		dst = f
	}
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	if f, ok := dst.(*os.File); ok && out != "" {
		return f.Close()
	}
	return nil
}
