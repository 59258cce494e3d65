package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pxekit/pxekit/internal/testenv"
)

// newMarker returns a string that nothing but the test's own initrd prints:
// the test waits for it on the serial console.
func newMarker() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "PXEKIT-MARKER-" + hex.EncodeToString(b)
}

// cpioEntry is one member of a cpio archive in the "newc" format (the one
// the Linux kernel unpacks as an initramfs).
type cpioEntry struct {
	name string
	mode uint32 // file type and permission bits, as in stat(2)
	rdev [2]uint32
	data []byte
}

const (
	sIFDIR = 0o040000
	sIFREG = 0o100000
	sIFCHR = 0o020000
)

// writeCPIO writes entries as a newc cpio archive: each member is a
// 110-byte ASCII header ("070701" and thirteen 8-digit hex fields), the NUL
// terminated name padded to a multiple of 4 bytes, then the data padded the
// same way; the archive ends with a member named "TRAILER!!!".
func writeCPIO(w io.Writer, entries []cpioEntry) error {
	pad := func(n int) []byte { return make([]byte, (4-n%4)%4) }
	write := func(ino int, e cpioEntry) error {
		nlink := 1
		if e.mode&0o170000 == sIFDIR {
			nlink = 2
		}
		hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.rdev[0], e.rdev[1], len(e.name)+1, 0)
		var b bytes.Buffer
		b.WriteString(hdr)
		b.WriteString(e.name)
		b.WriteByte(0)
		b.Write(pad(len(hdr) + len(e.name) + 1))
		b.Write(e.data)
		b.Write(pad(len(e.data)))
		_, err := w.Write(b.Bytes())
		return err
	}
	for i, e := range entries {
		if err := write(i+1, e); err != nil {
			return err
		}
	}
	return write(0, cpioEntry{name: "TRAILER!!!"})
}

// buildInitrd writes a gzip-compressed initramfs into dir and returns its
// path. Its /init is a busybox shell script that mounts devtmpfs, prints
// marker to the first serial port and powers the machine off.
func buildInitrd(t testing.TB, dir, marker string) string {
	t.Helper()
	bb := testenv.NeedCommand(t, "busybox")[0]
	bin, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	// busybox-static is a statically linked ELF; a dynamically linked
	// busybox would need a loader inside the initrd.
	if bytes.Contains(bin[:min(len(bin), 4096)], []byte("/lib64/ld-linux")) {
		testenv.Unavailable(t, "%s is not statically linked (install busybox-static)", bb)
	}
	script := "#!/bin/busybox sh\n" +
		"/bin/busybox mount -t devtmpfs devtmpfs /dev\n" +
		"/bin/busybox echo " + marker + " > /dev/ttyS0\n" +
		"/bin/busybox poweroff -f\n"
	entries := []cpioEntry{
		{name: "bin", mode: sIFDIR | 0o755},
		{name: "dev", mode: sIFDIR | 0o755},
		{name: "dev/console", mode: sIFCHR | 0o600, rdev: [2]uint32{5, 1}},
		{name: "proc", mode: sIFDIR | 0o755},
		{name: "sys", mode: sIFDIR | 0o755},
		{name: "bin/busybox", mode: sIFREG | 0o755, data: bin},
		{name: "init", mode: sIFREG | 0o755, data: []byte(script)},
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := writeCPIO(zw, entries); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "initrd.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCPIOReadByCpio checks the archive writer against GNU cpio, which
// lists the members of what writeCPIO wrote.
func TestCPIOReadByCpio(t *testing.T) {
	cpio := testenv.NeedCommand(t, "cpio")[0]
	var buf bytes.Buffer
	err := writeCPIO(&buf, []cpioEntry{
		{name: "dir", mode: sIFDIR | 0o755},
		{name: "dir/file", mode: sIFREG | 0o644, data: []byte("hello")},
		{name: "console", mode: sIFCHR | 0o600, rdev: [2]uint32{5, 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := runStdin(buf.Bytes(), cpio, "-t", "-v", "--quiet")
	if err != nil {
		t.Fatalf("cpio -tv: %v\n%s", err, out)
	}
	for _, want := range []string{"dir\n", "dir/file\n", "console\n", " 5,"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("cpio -tv output lacks %q:\n%s", want, out)
		}
	}
	out, err = runStdin(buf.Bytes(), cpio, "-i", "--to-stdout", "--quiet", "dir/file")
	if err != nil || string(out) != "hello" {
		t.Errorf("cpio -i --to-stdout dir/file = %q, %v; want \"hello\"", out, err)
	}
}

func runStdin(stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	return cmd.CombinedOutput()
}
