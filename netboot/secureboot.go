package netboot

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/nbp"
)

// Secure Boot's signed chain, as shim 15–16 and GRUB 2.06 walk it over
// the network:
//
//  1. The firmware loads the boot program and checks its signature
//     against db, which on machines sold with Microsoft's keys holds
//     Microsoft's third-party UEFI CA: only shim passes.
//  2. shim fetches its second stage from the directory it came from, by
//     TFTP or HTTP: grubx64.efi ([ShimSecondStage]), and, when asked to,
//     MokManager (mmx64.efi) and the fallback fbx64.efi; Debian's shim
//     16.1 first asks for revocations_sku.efi, revocations_sbat.efi and
//     shim_certificate_0.efi (seen over HTTP boot). A missing optional
//     file is a plain "not found".
//  3. GRUB, signed by the distribution (shim trusts its key), reads
//     $prefix/x86_64-efi/grub.cfg or $prefix/grub.cfg from the server it
//     came from, with the prefix built into it ([EFIProgram.GRUBPrefix]).
//  4. GRUB boots kernels through shim's verifier: the kernel must be
//     signed by the distribution too. A Secure Boot GRUB has no
//     insmod of modules from the network and no linux16.
//
// shimPrograms are the names under which a tree keeps shim for x86-64
// UEFI, in order of preference, then bootx64.efi, the removable-media
// name of an ISO's EFI/boot, which GRUB and others use too: each counts
// only when signed by Microsoft's UEFI CA.
var shimPrograms = []string{"bootnetx64.efi", "shimx64.efi"}

// removableDirs are where images keep bootx64.efi.
var removableDirs = []string{"EFI/boot", "EFI/BOOT", "efi/boot", "."}

// ShimSecondStage is the name of the program an x86-64 shim loads from
// its own directory (shim's DEFAULT_LOADER); an ARM64 shim loads
// [ShimSecondStageARM64].
const ShimSecondStage = "grubx64.efi"

// ShimSecondStageARM64 is the second stage of an ARM64 shim (shim's
// DEFAULT_LOADER when built for aarch64).
const ShimSecondStageARM64 = "grubaa64.efi"

// secondStage returns the name shim, built for machine, loads beside
// itself, and the directory under GRUB's prefix that holds that GRUB's
// platform files.
func secondStage(machine uint16) (name, platform string) {
	if machine == MachineARM64 {
		return ShimSecondStageARM64, "arm64-efi"
	}
	return ShimSecondStage, "x86_64-efi"
}

// secondStageAliases are the names a tree may keep shim's second stage
// under when it lacks grubx64.efi: Debian's signed network GRUB.
var secondStageAliases = []string{"grubnetx64.efi"}

// maxKernelChecks bounds how many kernels [Boot.SecureBoot] opens.
const maxKernelChecks = 32

// findShim returns the tree's signed x86-64 shim, "" if it has none: the
// first file named as in shimPrograms where nbp.FindProgram looks, or
// else bootx64.efi in an image's EFI/boot, that is signed by
// Microsoft's UEFI CA.
func findShim(tree fs.FS) string {
	var names []string
	for _, dir := range nbp.ProgramDirs() {
		for _, n := range shimPrograms {
			names = append(names, path.Join(dir, n))
		}
	}
	for _, dir := range removableDirs {
		names = append(names, path.Join(dir, "bootx64.efi"), path.Join(dir, "BOOTX64.EFI"))
	}
	for _, p := range names {
		if !isFile(tree, p) {
			continue
		}
		if prog, err := readEFIProgram(tree, p); err == nil && prog.MicrosoftUEFI() {
			return p
		}
	}
	return ""
}

// secondStageAlias returns the name in tree that serves name, shim's
// second stage beside the tree's shim when the tree lacks it, or "".
func (b *Boot) secondStageAlias(name string) string {
	if b.shim == "" || name != path.Join(path.Dir(b.shim), ShimSecondStage) {
		return ""
	}
	for _, a := range secondStageAliases {
		if p := path.Join(path.Dir(b.shim), a); isFile(b.tree, p) {
			return p
		}
	}
	return ""
}

// Shim returns the tree's signed x86-64 shim that [Boot.Policy] offers
// to UEFI clients, "" if the tree has none.
func (b *Boot) Shim() string { return b.shim }

// readEFIProgram parses the EFI program name of fsys.
func readEFIProgram(fsys fs.FS, name string) (EFIProgram, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return EFIProgram{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return EFIProgram{}, err
	}
	r, ok := f.(io.ReaderAt)
	if !ok {
		// Headers, the certificate table and GRUB's objects lie within
		// the first few MiB; read at most 64 MiB of a file that cannot
		// be read at an offset.
		data, err := io.ReadAll(io.LimitReader(f, 64<<20))
		if err != nil {
			return EFIProgram{}, err
		}
		return ParseEFIProgram(bytes.NewReader(data), int64(len(data)))
	}
	return ParseEFIProgram(r, st.Size())
}

// SecureBootProblem is something that keeps a client with Secure Boot
// enforcing from booting what [Boot.SecureBoot] was asked about.
type SecureBootProblem struct {
	// File is the served name of the program or kernel.
	File string
	// Role says who loads it: "x86-64 UEFI boot program", "UEFI HTTP
	// boot program", "shim's second stage", "kernel of entry LABEL", …
	Role string
	// Program is what File holds, as far as [ParseEFIProgram] read it.
	Program EFIProgram
	// Problem says what the firmware, shim or GRUB will do with it.
	Problem string
	// Refused is set when the firmware, shim or GRUB refuses File itself
	// (unsigned, or signed by a key it does not trust), so that a
	// machine that fetched it stops right there; not for a file that is
	// missing or that loads but cannot go on.
	Refused bool
}

// String returns a sentence such as "x86-64 UEFI boot program
// snponly.efi: unsigned: firmware with Secure Boot on refuses it".
func (p SecureBootProblem) String() string {
	return p.Role + " " + p.File + ": " + p.Problem
}

// SecureBoot checks what p offers UEFI clients against the chain a
// machine with Secure Boot enforcing (and Microsoft's keys) accepts, and
// returns one problem per link that breaks it:
//
//   - a boot program (x86-64 and ARM64, over TFTP and over UEFI HTTP boot)
//     that is unsigned, such as syslinux.efi or Debian's iPXE builds, or
//     signed by another key than Microsoft's UEFI CA (GRUB or a kernel
//     loaded without shim);
//   - for shim: a second stage (grubx64.efi beside it, grubaa64.efi for
//     an ARM64 shim) that is not served, or unsigned;
//   - for a signed GRUB: no module for the protocol it was loaded over
//     (Debian 12's signed GRUB has tftp but no http, so UEFI HTTP boot
//     clients stop at its prompt), no configuration where its built-in
//     prefix points, and kernels of the generated menu that are
//     unsigned.
//
// iPXE scripts are not checked (iPXE itself is the problem), and neither
// are kernels named by URL. It reads program headers only. A client
// without Secure Boot boots all of these: the problems are warnings.
func (b *Boot) SecureBoot(p *nbp.Policy) []SecureBootProblem {
	if p == nil {
		return nil
	}
	var out []SecureBootProblem
	firsts := []struct {
		role, file, proto string
	}{
		{"x86-64 UEFI boot program", p.TFTP[iana.EFI_X86_64], "tftp"},
		{"ARM64 UEFI boot program", p.TFTP[iana.EFI_ARM64], "tftp"},
		{"UEFI HTTP boot program", b.servedName(p.HTTP[iana.EFI_X86_64_HTTP]), "http"},
		{"ARM64 UEFI HTTP boot program", b.servedName(p.HTTP[iana.EFI_ARM64_HTTP]), "http"},
	}
	for _, f := range firsts {
		if f.file == "" {
			continue
		}
		if ext := strings.ToLower(path.Ext(f.file)); ext == ".iso" || ext == ".img" {
			// A disk image (PolicyOptions.HTTPImage): the firmware boots
			// the image's own EFI boot program, which the image's
			// maker signed or did not; nothing here can check it.
			continue
		}
		for _, pr := range b.checkChain(f.role, f.file, f.proto) {
			// PXE and HTTP boot share the links after the first.
			if !slices.ContainsFunc(out, func(o SecureBootProblem) bool { return o.String() == pr.String() }) {
				out = append(out, pr)
			}
		}
	}
	return out
}

// servedName returns the name in b of a URL under b's HTTP base, "" for
// anything else.
func (b *Boot) servedName(url string) string {
	if url == "" || b.httpBase == "" || !strings.HasPrefix(url, b.httpBase) {
		return ""
	}
	return strings.TrimPrefix(url, b.httpBase)
}

// checkChain follows the chain from the first-stage program file, which
// the client fetched over proto ("tftp" or "http"), as GRUB names it.
func (b *Boot) checkChain(role, file, proto string) []SecureBootProblem {
	prog, err := readEFIProgram(b, file)
	if err != nil {
		return []SecureBootProblem{{File: file, Role: role, Problem: "not an EFI program the firmware can check: " + err.Error()}}
	}
	switch {
	case !prog.Signed:
		return []SecureBootProblem{{File: file, Role: role, Program: prog, Refused: true, Problem: "unsigned: firmware with Secure Boot on refuses it (Access Denied); serve a signed shim instead"}}
	case !prog.MicrosoftUEFI():
		return []SecureBootProblem{{File: file, Role: role, Program: prog, Refused: true, Problem: fmt.Sprintf("signed by %q (issued by %q), not by Microsoft's UEFI CA: firmware that trusts only Microsoft's keys refuses it; serve it through shim", prog.Signer, prog.Issuer)}}
	}
	// Shim: its second stage, beside it.
	name, platform := secondStage(prog.Machine)
	second := path.Join(path.Dir(file), name)
	if !isFile(b, second) {
		return []SecureBootProblem{{File: second, Role: "shim's second stage", Problem: "not served: shim (" + file + ") asks for it beside itself and stops"}}
	}
	grub, err := readEFIProgram(b, second)
	if err != nil || !grub.Signed {
		return []SecureBootProblem{{File: second, Role: "shim's second stage", Program: grub, Refused: true, Problem: "unsigned or not an EFI program: shim refuses it"}}
	}
	if grub.GRUBPrefix == "" {
		return nil
	}
	return b.checkGRUB(second, grub, proto, platform)
}

// checkGRUB checks what a signed GRUB reads: its configuration under its
// prefix (or its platform directory there, such as x86_64-efi), and the
// kernels of the generated menu.
func (b *Boot) checkGRUB(file string, grub EFIProgram, proto, platform string) []SecureBootProblem {
	var out []SecureBootProblem
	if len(grub.GRUBModules) > 0 && !grub.HasGRUBModule(proto) {
		// GRUB reads from the device it came from: without the module
		// it reaches nothing and stops at its prompt.
		out = append(out, SecureBootProblem{File: file, Role: "GRUB loaded by " + proto, Program: grub,
			Problem: "has no " + proto + " module, so it cannot read its configuration from the server it was loaded from and stops at its prompt; a signed GRUB loads no modules (Debian 12's reads over TFTP only: boot such clients by PXE, or serve Debian 13's signed grubnetx64.efi, which has http)"})
	}
	prefix := grub.GRUBPrefix
	if strings.HasPrefix(prefix, "(") {
		if i := strings.IndexByte(prefix, ')'); i >= 0 {
			prefix = prefix[i+1:]
		}
	}
	prefix = strings.Trim(prefix, "/")
	cfg := path.Join(prefix, "grub.cfg")
	if !isFile(b, cfg) && !isFile(b, path.Join(prefix, platform, "grub.cfg")) {
		out = append(out, SecureBootProblem{File: "/" + cfg, Role: "configuration of " + file, Program: grub,
			Problem: "not served: GRUB looks for it under its built-in prefix " + grub.GRUBPrefix})
	}
	if layer, _ := b.Lookup(cfg); layer != LayerGenerated || b.menu == nil {
		return out // the tree's own configuration names its own kernels
	}
	kernels := map[string][]string{}
	for _, e := range b.menu.Menu.All() {
		if !e.IsLinux() || strings.Contains(e.Kernel, "://") {
			continue
		}
		k := strings.TrimPrefix(e.Kernel, "/")
		if len(kernels) < maxKernelChecks || kernels[k] != nil {
			kernels[k] = append(kernels[k], e.Label)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(kernels)) {
		prog, err := readEFIProgram(b, k)
		if err == nil && prog.Signed {
			continue
		}
		problem := "unsigned: GRUB with Secure Boot on refuses it (bad shim signature)"
		if err != nil {
			problem = "not an EFI-stub kernel GRUB can check: " + err.Error()
		}
		out = append(out, SecureBootProblem{File: k, Role: "kernel of entry " + strings.Join(kernels[k], ","), Program: prog, Problem: problem, Refused: err == nil})
	}
	return out
}
