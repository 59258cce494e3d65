package bootmenu

import (
	"errors"
	"testing"
	"testing/fstest"
)

func TestFindConfig(t *testing.T) {
	f := &fstest.MapFile{Data: []byte("label x\n")}
	tests := []struct {
		name      string
		fsys      fstest.MapFS
		want, dir string
		err       error
	}{
		{"empty", fstest.MapFS{}, "", "", ErrNoConfig},
		{"debian iso", fstest.MapFS{"isolinux/isolinux.cfg": f, "isolinux/menu.cfg": f}, "isolinux/isolinux.cfg", "isolinux", nil},
		{"boot/isolinux first", fstest.MapFS{"isolinux/isolinux.cfg": f, "boot/isolinux/isolinux.cfg": f}, "boot/isolinux/isolinux.cfg", "boot/isolinux", nil},
		{"syslinux.cfg beside no isolinux.cfg", fstest.MapFS{"isolinux/syslinux.cfg": f, "syslinux/syslinux.cfg": f}, "isolinux/syslinux.cfg", "isolinux", nil},
		{"top", fstest.MapFS{"syslinux.cfg": f, "pxelinux.cfg/default": f}, "syslinux.cfg", "", nil},
		{"extlinux", fstest.MapFS{"boot/syslinux/extlinux.conf": f}, "boot/syslinux/extlinux.conf", "boot/syslinux", nil},
		{"pxelinux tree", fstest.MapFS{"pxelinux.cfg/default": f, "pxelinux.0": f}, "pxelinux.cfg/default", "", nil},
		{"opensuse loader", fstest.MapFS{"boot/x86_64/loader/isolinux.cfg": f, "boot/x86_64/loader/isolinux.bin": f}, "boot/x86_64/loader/isolinux.cfg", "boot/x86_64/loader", nil},
		{"directory is no file", fstest.MapFS{"isolinux/isolinux.cfg/x": f, "syslinux/syslinux.cfg": f}, "syslinux/syslinux.cfg", "syslinux", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, dir, err := FindConfig(tt.fsys)
			if name != tt.want || dir != tt.dir || !errors.Is(err, tt.err) {
				t.Errorf("FindConfig = %q, %q, %v; want %q, %q, %v", name, dir, err, tt.want, tt.dir, tt.err)
			}
		})
	}
}
