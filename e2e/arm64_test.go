package e2e

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Files of Debian's debian-installer-12-netboot-arm64 package.
const (
	debArm64Dir     = "/usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64"
	debArm64Kernel  = debArm64Dir + "/linux"
	debArm64Grubaa6 = debArm64Dir + "/grubaa64.efi"
)

// arm64Init is the /init of the arm64 marker initrd. busybox-static is
// installed for the host's architecture only, so the init is a small Go
// program cross-compiled for arm64: it mounts devtmpfs, prints the marker
// on the PL011 serial port of QEMU's virt machine and powers off.
const arm64Init = `package main

import (
	"os"
	"syscall"
)

var marker string

func main() {
	_ = syscall.Mount("devtmpfs", "/dev", "devtmpfs", 0, "")
	if f, err := os.OpenFile("/dev/ttyAMA0", os.O_WRONLY, 0); err == nil {
		f.Write([]byte(marker + "\n"))
		f.Close()
	}
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
}
`

// buildArm64Initrd writes an arm64 marker initrd to dir/initrd.gz.
func buildArm64Initrd(t testing.TB, dir, marker string) {
	t.Helper()
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "go.mod"), "module pxekitinit\n\ngo 1.22\n")
	writeFile(t, filepath.Join(src, "main.go"), arm64Init)
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	bin := filepath.Join(src, "init")
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags", "-s -w -X main.marker="+marker, "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the arm64 init: %v\n%s", err, out)
	}
	initBin, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	err = writeCPIO(zw, []cpioEntry{
		{name: "dev", mode: sIFDIR | 0o755},
		{name: "dev/console", mode: sIFCHR | 0o600, rdev: [2]uint32{5, 1}},
		{name: "init", mode: sIFREG | 0o755, data: initBin},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "initrd.gz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
