package isofs_test

import (
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"

	"github.com/pxekit/pxekit/isofs"
)

// Walk an image made by xorriso (testdata/small-rr.iso) and read a file
// through a symbolic link.
func Example() {
	f, err := os.Open("testdata/small-rr.iso")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fsys, err := isofs.Open(f)
	if err != nil {
		log.Fatal(err)
	}
	fs.WalkDir(fsys, "sub", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := d.Info()
		fmt.Println(info.Mode(), p)
		if d.IsDir() && p != "sub" {
			return fs.SkipDir
		}
		return nil
	})
	b, err := fs.ReadFile(fsys, "sub/link")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sub/link: %q\n", b)
	// Output:
	// drwxr-xr-x sub
	// drwxr-xr-x sub/a
	// -rw-r--r-- sub/blocks.txt
	// Lrwxrwxrwx sub/link
	// -rw-r--r-- sub/Ünïcödé with a long name that needs more than one record.txt
	// sub/link: "hello\n"
}

// Choose the Joliet names of an image that also has Rock Ridge.
func ExampleOpenWith() {
	f, err := os.Open("testdata/small-rr.iso")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fsys, err := isofs.OpenWith(f, isofs.Options{Names: isofs.NamesJoliet})
	if err != nil {
		log.Fatal(err)
	}
	info, err := fsys.Stat("hello.txt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fsys.Volume().Names, info.Mode(), info.Size())
	// Output: joliet -r-xr-xr-x 6
}

// Read a range of a file without reading the rest, as http.ServeContent
// does with a Range request.
func ExampleFile() {
	f, err := os.Open("testdata/small-rr.iso")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fsys, err := isofs.Open(f)
	if err != nil {
		log.Fatal(err)
	}
	file, err := fsys.Open("sub/blocks.txt")
	if err != nil {
		log.Fatal(err)
	}
	defer file.Close()
	r := file.(*isofs.File) // also an io.ReaderAt and io.Seeker
	if _, err := r.Seek(-5, io.SeekEnd); err != nil {
		log.Fatal(err)
	}
	tail, _ := io.ReadAll(r)
	fmt.Printf("%d bytes, ends with %q\n", r.Size(), tail)
	// Output: 3000 bytes, ends with "xxxxx"
}

// List the El Torito boot catalog of an image and open its EFI image.
func ExampleFS_BootImages() {
	f, err := os.Open("testdata/small-eltorito.iso")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fsys, err := isofs.Open(f)
	if err != nil {
		log.Fatal(err)
	}
	imgs, err := fsys.BootImages()
	if err != nil {
		log.Fatal(err)
	}
	for i, b := range imgs {
		fmt.Printf("%d: %v bootable=%v sectors=%d lba=%d size=%d\n", i, b.Platform, b.Bootable, b.SectorCount, b.LBA, b.Size)
	}
	efi, err := fsys.OpenBootImage(1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("EFI image:", efi.Size(), "bytes")
	// Output:
	// 0: bios bootable=true sectors=4 lba=34 size=2048
	// 1: efi bootable=true sectors=8 lba=35 size=4096
	// EFI image: 4096 bytes
}
