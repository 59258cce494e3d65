package netboot

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/insomniacslk/dhcp/iana"
)

// signedTree is a tree laid out for Secure Boot as Debian's packages
// name the programs: Microsoft-signed shim as shimx64.efi, the signed
// network GRUB as grubnetx64.efi (prefix /grub), a signed kernel and a
// menu that boots it.
func signedTree(t *testing.T) fstest.MapFS {
	shim := testPKCS7(t, "Microsoft Windows UEFI Driver Publisher", "Microsoft Corporation UEFI CA 2011")
	debian := testPKCS7(t, "Debian Secure Boot Signer 2022 - grub2", "Debian Secure Boot CA")
	return fstest.MapFS{
		"isolinux/isolinux.cfg": {Data: []byte("DEFAULT install\nTIMEOUT 10\nLABEL install\n  KERNEL /install/vmlinuz\n  APPEND initrd=/install/initrd.gz\n")},
		"install/vmlinuz":       {Data: testPE(MachineX8664, debian, "")},
		"install/initrd.gz":     {Data: []byte("initrd")},
		"shimx64.efi":           {Data: testPE(MachineX8664, shim, "")},
		"grubnetx64.efi":        {Data: testPE(MachineX8664, debian, "/grub")},
	}
}

func problems(ps []SecureBootProblem) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, "\n")
}

func TestSecureBootChain(t *testing.T) {
	tree := signedTree(t)
	b, err := New(tree, &Options{Programs: programsFS(), HTTPBase: "http://:8080/", Plain: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Shim(); got != "shimx64.efi" {
		t.Errorf("Shim() = %q, want shimx64.efi", got)
	}
	p, err := b.Policy(nil)
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[iana.Arch]string{iana.EFI_X86_64: "shimx64.efi", iana.EFI_BC: "shimx64.efi"} {
		if got := p.TFTP[a]; got != want {
			t.Errorf("Policy().TFTP[%v] = %q, want %q (the signed shim)", a, got, want)
		}
	}
	if got, want := p.HTTP[iana.EFI_X86_64_HTTP], "http://:8080/shimx64.efi"; got != want {
		t.Errorf("Policy().HTTP[EFI x86-64 HTTP] = %q, want %q (the signed shim, not iPXE)", got, want)
	}
	// shim asks for grubx64.efi beside itself: the tree's grubnetx64.efi.
	if l, name := b.Lookup("grubx64.efi"); l != LayerAlias || name != "grubnetx64.efi" {
		t.Errorf("Lookup(grubx64.efi) = %v, %q, want alias, grubnetx64.efi", l, name)
	}
	if got := read(t, b, "grubx64.efi"); got != string(tree["grubnetx64.efi"].Data) {
		t.Errorf("grubx64.efi is not grubnetx64.efi")
	}
	if st, err := fs.Stat(b, "grubx64.efi"); err != nil || st.Name() != "grubx64.efi" || st.Size() != int64(len(tree["grubnetx64.efi"].Data)) {
		t.Errorf("Stat(grubx64.efi) = %v, %v, want grubx64.efi of grubnetx64.efi's size", st, err)
	}
	if f, err := b.Open("grubx64.efi"); err == nil {
		if _, ok := f.(interface {
			ReadAt([]byte, int64) (int, error)
		}); !ok {
			t.Errorf("the alias lost io.ReaderAt, which TFTP and HTTP read through")
		}
		f.Close()
	}
	// Only beside the shim, and only the second stage.
	for _, n := range []string{"install/grubx64.efi", "mmx64.efi", "fbx64.efi", "revocations_sbat.efi"} {
		if l, _ := b.Lookup(n); l != LayerNone {
			t.Errorf("Lookup(%s) = %v, want none (a clean not found)", n, l)
		}
		if _, err := b.Open(n); !errorsIsNotExist(err) {
			t.Errorf("Open(%s) error = %v, want fs.ErrNotExist", n, err)
		}
	}
	// GRUB's prefix is /grub: the generated configuration is there.
	if l, g := b.Lookup("grub/grub.cfg"); l != LayerGenerated || g != GRUBConfig {
		t.Errorf("Lookup(grub/grub.cfg) = %v, %q, want the generated GRUB configuration", l, g)
	}
	// A Secure Boot GRUB has no linux16 and loads no modules.
	cfg := read(t, b, "grub/grub.cfg")
	for _, cmd := range []string{"linux16", "initrd16", "insmod", "chainloader", "multiboot"} {
		if strings.Contains(cfg, cmd) {
			t.Errorf("the generated GRUB configuration uses %s, which a Secure Boot GRUB refuses:\n%s", cmd, cfg)
		}
	}
	if !strings.Contains(cfg, "linux /install/vmlinuz") {
		t.Errorf("the generated GRUB configuration does not boot the kernel from GRUB's root:\n%s", cfg)
	}
	if ps := b.SecureBoot(p); len(ps) != 0 {
		t.Errorf("SecureBoot() of a signed chain:\n%s", problems(ps))
	}
	if err := fstest.TestFS(b, "shimx64.efi", "grubnetx64.efi", "grub/grub.cfg", "install/vmlinuz"); err != nil {
		t.Error(err)
	}
}

// withGRUB is signedTree with a GRUB that has the modules named.
func withGRUB(t *testing.T, modules ...string) fstest.MapFS {
	tree := signedTree(t)
	tree["grubnetx64.efi"] = &fstest.MapFile{Data: testPE(MachineX8664, testPKCS7(t, "Debian Secure Boot Signer 2022 - grub2", "Debian Secure Boot CA"), "/grub", modules...)}
	return tree
}

// arm64Tree is an ARM64 tree for Secure Boot: Microsoft-signed
// shimaa64.efi, a signed GRUB (prefix /grub, with modules when given)
// named second, a signed kernel and a menu that boots it.
func arm64Tree(t *testing.T, second string, modules ...string) fstest.MapFS {
	shim := testPKCS7(t, "Microsoft Windows UEFI Driver Publisher", "Microsoft Corporation UEFI CA 2011")
	debian := testPKCS7(t, "Debian Secure Boot Signer 2022 - grub2", "Debian Secure Boot CA")
	return fstest.MapFS{
		"isolinux/isolinux.cfg": {Data: []byte("DEFAULT install\nTIMEOUT 10\nLABEL install\n  KERNEL /install/vmlinuz\n  APPEND initrd=/install/initrd.gz\n")},
		"install/vmlinuz":       {Data: testPE(MachineARM64, debian, "")},
		"install/initrd.gz":     {Data: []byte("initrd")},
		"shimaa64.efi":          {Data: testPE(MachineARM64, shim, "")},
		second:                  {Data: testPE(MachineARM64, debian, "/grub", modules...)},
	}
}

func errorsIsNotExist(err error) bool {
	return err != nil && strings.Contains(err.Error(), fs.ErrNotExist.Error())
}

func TestSecureBootProblems(t *testing.T) {
	shimSig := testPKCS7(t, "Microsoft Windows UEFI Driver Publisher", "Microsoft Corporation UEFI CA 2011")
	debian := testPKCS7(t, "Debian Secure Boot Signer 2022 - grub2", "Debian Secure Boot CA")
	unsignedKernel := signedTree(t)
	unsignedKernel["install/vmlinuz"] = &fstest.MapFile{Data: testPE(MachineX8664, nil, "")}
	noSecond := signedTree(t)
	delete(noSecond, "grubnetx64.efi")
	noMenu := signedTree(t)
	delete(noMenu, "isolinux/isolinux.cfg")
	grubDirect := fstest.MapFS{
		"isolinux/isolinux.cfg": signedTree(t)["isolinux/isolinux.cfg"],
		"install/vmlinuz":       {Data: testPE(MachineX8664, debian, "")},
		"grubx64.efi":           {Data: testPE(MachineX8664, debian, "/grub")},
	}
	tests := []struct {
		name string
		tree fstest.MapFS
		want []string // one line per problem, each containing these words
		// refused is SecureBootProblem.Refused of each, all false if nil
		refused []bool
	}{
		{"iPXE from this machine", fstest.MapFS{"isolinux/isolinux.cfg": signedTree(t)["isolinux/isolinux.cfg"]}, nil, []bool{true, true}},
		{"unsigned kernel", unsignedKernel, []string{"kernel of entry install install/vmlinuz: unsigned"}, []bool{true}},
		{"no second stage", noSecond, []string{"shim's second stage grubx64.efi: not served"}, nil},
		{"no configuration", noMenu, []string{"configuration of grubx64.efi /grub/grub.cfg: not served"}, nil},
		{"GRUB without shim", grubDirect, []string{`x86-64 UEFI boot program grubx64.efi: signed by "Debian Secure Boot Signer 2022 - grub2"`, "UEFI HTTP boot program snponly.efi: unsigned"}, []bool{true, true}},
		{"GRUB without http", withGRUB(t, "efinet", "tftp"), []string{"GRUB loaded by http grubx64.efi: has no http module"}, nil},
		{"GRUB with tftp and http", withGRUB(t, "efinet", "tftp", "http"), nil, nil},
		{"unsigned bootx64.efi is no shim", fstest.MapFS{
			"EFI/boot/bootx64.efi": {Data: testPE(MachineX8664, nil, "")},
			"snponly.efi":          {Data: testPE(MachineX8664, nil, "")},
		}, []string{"x86-64 UEFI boot program snponly.efi: unsigned", "UEFI HTTP boot program snponly.efi: unsigned"}, []bool{true, true}},
		{"image shim", fstest.MapFS{
			"EFI/boot/bootx64.efi": {Data: testPE(MachineX8664, shimSig, "")},
			"EFI/boot/grubx64.efi": {Data: testPE(MachineX8664, debian, "/grub")},
		}, []string{"configuration of EFI/boot/grubx64.efi /grub/grub.cfg: not served"}, nil},
		{"unsigned second stage", fstest.MapFS{
			"EFI/boot/bootx64.efi": {Data: testPE(MachineX8664, shimSig, "")},
			"EFI/boot/grubx64.efi": {Data: testPE(MachineX8664, nil, "/grub")},
		}, []string{"shim's second stage EFI/boot/grubx64.efi: unsigned"}, []bool{true}},
		// ARM64: PXE (arch 11) and HTTP boot (arch 19) get the same
		// program; the chain's second stage is grubaa64.efi and only HTTP
		// boot needs GRUB's http module.
		{"ARM64 shim, GRUB without http", arm64Tree(t, "grubaa64.efi", "efinet", "tftp"), []string{
			"x86-64 UEFI boot program snponly.efi: unsigned", "UEFI HTTP boot program snponly.efi: unsigned",
			"GRUB loaded by http grubaa64.efi: has no http module"}, []bool{true, true, false}},
		{"ARM64 shim, GRUB with http", arm64Tree(t, "grubaa64.efi", "efinet", "tftp", "http"), []string{
			"x86-64 UEFI boot program snponly.efi: unsigned", "UEFI HTTP boot program snponly.efi: unsigned"}, []bool{true, true}},
		{"ARM64 shim beside grubnetaa64.efi only", arm64Tree(t, "grubnetaa64.efi"), []string{
			"x86-64 UEFI boot program snponly.efi: unsigned", "shim's second stage grubaa64.efi: not served",
			"UEFI HTTP boot program snponly.efi: unsigned"}, []bool{true, false, true}},
		{"unsigned ARM64 GRUB", fstest.MapFS{
			"grubaa64.efi": {Data: testPE(MachineARM64, nil, "/grub")},
		}, []string{"x86-64 UEFI boot program snponly.efi: unsigned", "ARM64 UEFI boot program grubaa64.efi: unsigned",
			"UEFI HTTP boot program snponly.efi: unsigned", "ARM64 UEFI HTTP boot program grubaa64.efi: unsigned"}, []bool{true, true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			progs := fstest.MapFS{"snponly.efi": {Data: testPE(MachineX8664, nil, "")}}
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if tt.name == "iPXE from this machine" {
				want = []string{"x86-64 UEFI boot program snponly.efi: unsigned", "UEFI HTTP boot program snponly.efi: unsigned"}
			}
			b, err := New(tt.tree, &Options{Programs: progs, HTTPBase: "http://:8080/", Plain: true})
			if err != nil {
				t.Fatal(err)
			}
			p, err := b.Policy(nil)
			if err != nil {
				t.Fatal(err)
			}
			got := b.SecureBoot(p)
			var lines []string
			for _, g := range got {
				lines = append(lines, g.String())
			}
			if len(lines) != len(want) {
				t.Fatalf("SecureBoot() =\n%s\nwant %d problems: %q", problems(got), len(want), want)
			}
			for i, w := range want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("SecureBoot()[%d] = %q, want it to say %q", i, lines[i], w)
				}
				if r := tt.refused != nil && tt.refused[i]; got[i].Refused != r {
					t.Errorf("SecureBoot()[%d] (%s): Refused = %v, want %v", i, lines[i], got[i].Refused, r)
				}
			}
		})
	}
	// The image's own shim, named for removable media, is what UEFI
	// clients get, over TFTP and HTTP boot.
	b, err := New(fstest.MapFS{
		"EFI/boot/bootx64.efi": {Data: testPE(MachineX8664, shimSig, "")},
		"EFI/boot/grubx64.efi": {Data: testPE(MachineX8664, debian, "/grub")},
		"efi/boot/grubx64.efi": {Data: testPE(MachineX8664, debian, "/grub")},
	}, &Options{HTTPBase: "http://:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := b.Policy(nil)
	if p.TFTP[iana.EFI_X86_64] != "EFI/boot/bootx64.efi" || p.HTTP[iana.EFI_X86_64_HTTP] != "http://:8080/EFI/boot/bootx64.efi" {
		t.Errorf("Policy() of an image with shim as EFI/boot/bootx64.efi: TFTP %q, HTTP %q", p.TFTP[iana.EFI_X86_64], p.HTTP[iana.EFI_X86_64_HTTP])
	}
	// -efi-boot still wins.
	p, _ = b.Policy(&PolicyOptions{EFI: "efi/boot/grubx64.efi"})
	if !slices.Contains([]string{p.TFTP[iana.EFI_X86_64]}, "efi/boot/grubx64.efi") {
		t.Errorf("Policy(EFI) = %q, want the operator's program", p.TFTP[iana.EFI_X86_64])
	}
}

// TestSecureBootDebianNetboot checks the chain of Debian's own netboot
// tree where it is installed (debian-installer-12-netboot-amd64): its
// shim is offered to UEFI clients, its GRUB finds the tree's own
// configuration under its prefix, and the one problem is HTTP boot,
// which Debian 12's signed GRUB cannot read from.
func TestSecureBootDebianNetboot(t *testing.T) {
	const root = "/usr/lib/debian-installer/images/12/amd64/text"
	d, err := Dir(root)
	if err != nil {
		t.Skipf("Debian's netboot tree: %v", err)
	}
	defer d.Close()
	b, err := New(d, &Options{HTTPBase: "http://:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	const shim = "debian-installer/amd64/bootnetx64.efi"
	if got := b.Shim(); got != shim {
		t.Fatalf("Shim() = %q, want %s", got, shim)
	}
	p, err := b.Policy(nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.TFTP[iana.EFI_X86_64] != shim || p.HTTP[iana.EFI_X86_64_HTTP] != "http://:8080/"+shim {
		t.Errorf("Policy(): TFTP %q, HTTP %q, want the shim for both", p.TFTP[iana.EFI_X86_64], p.HTTP[iana.EFI_X86_64_HTTP])
	}
	got := b.SecureBoot(p)
	if len(got) != 1 || got[0].Role != "GRUB loaded by http" || got[0].File != "debian-installer/amd64/grubx64.efi" {
		t.Errorf("SecureBoot() =\n%s\nwant only: GRUB loaded by http debian-installer/amd64/grubx64.efi has no http module", problems(got))
	}
}
