package netboot

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ErrNotEFI is wrapped by the error of [ParseEFIProgram] for a file that
// is not a PE/COFF executable, the format of every EFI program.
var ErrNotEFI = errors.New("netboot: not an EFI program (PE/COFF executable)")

// COFF machine types of [EFIProgram.Machine] (PE/COFF specification
// §3.3.1).
const (
	MachineX8664 = 0x8664
	MachineARM64 = 0xaa64
)

// EFIProgram is what Secure Boot cares about in an EFI program: a boot
// loader, shim, GRUB, or a Linux kernel with its EFI stub. See
// [ParseEFIProgram].
type EFIProgram struct {
	// Machine is the COFF machine type: [MachineX8664], [MachineARM64].
	Machine uint16

	// Signed is set when the program carries an Authenticode signature: a
	// certificate table (optional header data directory 4) whose first
	// entry is a PKCS#7 SignedData (WIN_CERT_TYPE_PKCS_SIGNED_DATA).
	// Firmware with Secure Boot on refuses a program without one. The
	// signature itself is not verified.
	Signed bool

	// Signer and Issuer are the common names of the signing
	// certificate's subject and issuer, such as "Microsoft Windows UEFI
	// Driver Publisher" and "Microsoft Corporation UEFI CA 2011" for shim;
	// empty when the signature carries no certificate that could be read.
	// The signing certificate is the one of the signature's certificates
	// that issued none of the others.
	Signer, Issuer string

	// GRUBPrefix is the prefix built into a GRUB image (its module
	// section's prefix object), the directory where GRUB looks for
	// grub.cfg when nothing else sets $prefix: "/grub" for Debian 12's
	// grubnetx64.efi.signed, "/debian-installer/amd64/grub" for its
	// grubnetx64-installer.efi.signed (the grubx64.efi of the installer's
	// netboot tree), "/EFI/debian" for grubx64.efi.signed. Empty for a
	// program that is not GRUB.
	GRUBPrefix string

	// GRUBModules are the names of the modules built into a GRUB image,
	// in image order. A signed GRUB loads no others, so the protocols it
	// reads files over are those of its modules: Debian 12's signed
	// network GRUB has "tftp" but no "http".
	GRUBModules []string
}

// HasGRUBModule reports whether name is one of p.GRUBModules.
func (p EFIProgram) HasGRUBModule(name string) bool { return slices.Contains(p.GRUBModules, name) }

// MicrosoftUEFI reports whether the program is signed with a certificate
// that Microsoft's third-party UEFI CA issued ("Microsoft Corporation
// UEFI CA 2011", "Microsoft UEFI CA 2023"), the key that machines sold
// with Microsoft's keys trust for everything but Windows. This is how
// shim is signed; GRUB and kernels are signed by their distribution, and
// only shim trusts those keys.
func (p EFIProgram) MicrosoftUEFI() bool {
	return p.Signed && (strings.HasPrefix(p.Issuer, "Microsoft Corporation UEFI CA") || strings.HasPrefix(p.Issuer, "Microsoft UEFI CA"))
}

// Limits of ParseEFIProgram, far above what real programs use.
const (
	maxPEHeaderOffset = 1 << 16
	maxSections       = 96 // PE/COFF §3.3: the loader's limit
	maxCertTable      = 1 << 20
	maxGRUBObjects    = 4096
	maxGRUBPrefix     = 4096
	maxELFSections    = 256
	maxModName        = 64
)

// Offsets in the headers (PE/COFF specification §2, §3, §4).
const (
	dosLfanew       = 0x3c
	coffSize        = 20 // after the "PE\0\0" signature
	sectionSize     = 40
	pe32Magic       = 0x10b
	pe32PlusMagic   = 0x20b
	certDirectory   = 4 // IMAGE_DIRECTORY_ENTRY_SECURITY
	winCertPKCS7    = 0x0002
	grubModuleMagic = 0x676d696d // "mimg"
	grubObjELF      = 0          // OBJ_TYPE_ELF: a module
	grubObjPrefix   = 3          // OBJ_TYPE_PREFIX
)

// ParseEFIProgram reads the headers of the PE/COFF executable r of size
// bytes: its machine type, its Authenticode signature's presence and
// signer, and, for GRUB, its built-in prefix. It reads only headers, the
// certificate table (at most 1 MiB) and GRUB's object and module
// headers, never the whole file. An error wraps [ErrNotEFI] when r is not a PE/COFF
// executable; a signature that cannot be decoded leaves Signer empty.
func ParseEFIProgram(r io.ReaderAt, size int64) (EFIProgram, error) {
	var p EFIProgram
	read := func(off int64, n int) ([]byte, error) {
		if off < 0 || n < 0 || off > size || int64(n) > size-off {
			return nil, fmt.Errorf("%w: %d bytes at %d beyond the end (%d)", ErrNotEFI, n, off, size)
		}
		b := make([]byte, n)
		if _, err := r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && len(b) == n) {
			return nil, err
		}
		return b, nil
	}
	dos, err := read(0, 64)
	if err != nil {
		return p, err
	}
	if dos[0] != 'M' || dos[1] != 'Z' {
		return p, fmt.Errorf("%w: no MZ header", ErrNotEFI)
	}
	peOff := int64(binary.LittleEndian.Uint32(dos[dosLfanew:]))
	if peOff > maxPEHeaderOffset {
		return p, fmt.Errorf("%w: PE header at %d", ErrNotEFI, peOff)
	}
	hdr, err := read(peOff, 4+coffSize)
	if err != nil {
		return p, err
	}
	if !bytes.Equal(hdr[:4], []byte("PE\x00\x00")) {
		return p, fmt.Errorf("%w: no PE signature", ErrNotEFI)
	}
	coff := hdr[4:]
	p.Machine = binary.LittleEndian.Uint16(coff[0:])
	nsec := int(binary.LittleEndian.Uint16(coff[2:]))
	optSize := int(binary.LittleEndian.Uint16(coff[16:]))
	if nsec > maxSections {
		return p, fmt.Errorf("%w: %d sections", ErrNotEFI, nsec)
	}
	opt, err := read(peOff+4+coffSize, optSize)
	if err != nil {
		return p, err
	}
	if len(opt) < 2 {
		return p, fmt.Errorf("%w: no optional header", ErrNotEFI)
	}
	var dirs, ndirsAt int
	switch binary.LittleEndian.Uint16(opt) {
	case pe32PlusMagic:
		dirs, ndirsAt = 112, 108
	case pe32Magic:
		dirs, ndirsAt = 96, 92
	default:
		return p, fmt.Errorf("%w: optional header magic %#x", ErrNotEFI, binary.LittleEndian.Uint16(opt))
	}
	if len(opt) < dirs {
		return p, fmt.Errorf("%w: optional header of %d bytes", ErrNotEFI, len(opt))
	}
	ndirs := int(binary.LittleEndian.Uint32(opt[ndirsAt:]))
	if ndirs > certDirectory && len(opt) >= dirs+8*(certDirectory+1) {
		d := opt[dirs+8*certDirectory:]
		// The certificate table's "address" is a file offset (§4.7).
		off, n := int64(binary.LittleEndian.Uint32(d)), int64(binary.LittleEndian.Uint32(d[4:]))
		if n >= 8 && n <= maxCertTable {
			if table, err := read(off, int(n)); err == nil {
				p.signature(table)
			}
		}
	}
	secs, err := read(peOff+4+coffSize+int64(optSize), nsec*sectionSize)
	if err != nil {
		return p, err
	}
	for i := range nsec {
		s := secs[i*sectionSize : (i+1)*sectionSize]
		if name := string(bytes.TrimRight(s[:8], "\x00")); name != "mods" && name != ".mods" {
			continue
		}
		rawSize := int64(binary.LittleEndian.Uint32(s[16:]))
		rawOff := int64(binary.LittleEndian.Uint32(s[20:]))
		p.GRUBPrefix, p.GRUBModules = grubObjects(read, rawOff, rawSize)
		break
	}
	return p, nil
}

// signature reads the first WIN_CERTIFICATE of a certificate table.
func (p *EFIProgram) signature(table []byte) {
	length := int(binary.LittleEndian.Uint32(table))
	typ := binary.LittleEndian.Uint16(table[6:])
	if length < 8 || length > len(table) || typ != winCertPKCS7 {
		return
	}
	p.Signed = true
	p.Signer, p.Issuer = signerNames(table[8:length])
}

// signerNames returns the subject and issuer common names of the signing
// certificate of a PKCS#7 SignedData (RFC 2315 §9.1).
func signerNames(der []byte) (subject, issuer string) {
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		return "", ""
	}
	var sd struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      asn1.RawValue
		Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return "", ""
	}
	certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
	if err != nil || len(certs) == 0 {
		return "", ""
	}
	for _, c := range certs {
		issuesAnother := false
		for _, o := range certs {
			if o != c && bytes.Equal(o.RawIssuer, c.RawSubject) && !bytes.Equal(o.RawSubject, o.RawIssuer) {
				issuesAnother = true
				break
			}
		}
		if !issuesAnother {
			return c.Subject.CommonName, c.Issuer.CommonName
		}
	}
	return "", ""
}

// grubObjects walks the objects of a GRUB module section (struct
// grub_module_info64, then grub_module_header entries) for the prefix
// and the names of the modules built in.
func grubObjects(read func(int64, int) ([]byte, error), off, size int64) (prefix string, modules []string) {
	info, err := read(off, 24)
	if err != nil || binary.LittleEndian.Uint32(info) != grubModuleMagic {
		return "", nil
	}
	pos, end := binary.LittleEndian.Uint64(info[8:]), binary.LittleEndian.Uint64(info[16:])
	if end > uint64(size) {
		end = uint64(size)
	}
	for range maxGRUBObjects {
		if pos+8 > end || pos+8 < pos {
			break
		}
		h, err := read(off+int64(pos), 8)
		if err != nil {
			break
		}
		typ, n := binary.LittleEndian.Uint32(h), uint64(binary.LittleEndian.Uint32(h[4:]))
		if n < 8 || n > end-pos {
			break
		}
		switch typ {
		case grubObjELF:
			if name := grubModuleName(read, off+int64(pos)+8, int64(n-8)); name != "" {
				modules = append(modules, name)
			}
		case grubObjPrefix:
			body, err := read(off+int64(pos)+8, int(min(n-8, maxGRUBPrefix)))
			if err != nil {
				break
			}
			if i := bytes.IndexByte(body, 0); i >= 0 {
				body = body[:i]
			}
			prefix = string(body)
		}
		pos += n
	}
	return prefix, modules
}

// grubModuleName returns the name in the .modname section of the ELF64
// module of size bytes at off, "" if it has none.
func grubModuleName(read func(int64, int) ([]byte, error), off, size int64) string {
	le := binary.LittleEndian
	eh, err := read(off, 64)
	if err != nil || size < 64 || !bytes.Equal(eh[:5], []byte("\x7fELF\x02")) {
		return ""
	}
	shoff, shnum, shstrndx := int64(le.Uint64(eh[0x28:])), int64(le.Uint16(eh[0x3c:])), int64(le.Uint16(eh[0x3e:]))
	const shdr = 64
	if shnum > maxELFSections || shstrndx >= shnum || shoff < 0 || shoff > size || shnum*shdr > size-shoff {
		return ""
	}
	shs, err := read(off+shoff, int(shnum*shdr))
	if err != nil {
		return ""
	}
	section := func(i int64) (int64, int64) { // offset and size in the module
		h := shs[i*shdr:]
		return int64(le.Uint64(h[0x18:])), int64(le.Uint64(h[0x20:]))
	}
	strOff, strSize := section(shstrndx)
	const want = ".modname\x00"
	for i := range shnum {
		nameOff := int64(le.Uint32(shs[i*shdr:]))
		if nameOff < 0 || nameOff > strSize-int64(len(want)) || strOff < 0 || strOff > size-strSize {
			continue
		}
		name, err := read(off+strOff+nameOff, len(want))
		if err != nil || string(name) != want {
			continue
		}
		o, n := section(i)
		if o < 0 || n <= 0 || n > maxModName || o > size-n {
			return ""
		}
		b, err := read(off+o, int(n))
		if err != nil {
			return ""
		}
		if j := bytes.IndexByte(b, 0); j >= 0 {
			b = b[:j]
		}
		return string(b)
	}
	return ""
}
