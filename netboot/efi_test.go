package netboot

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"math/big"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testPE builds a PE32+ executable for machine, annotated field by field
// after the PE/COFF specification: a DOS header pointing at the PE
// header, a COFF header, an optional header with 16 data directories
// (directory 4, the certificate table, pointing at the WIN_CERTIFICATE
// of pkcs7 when it is not nil), and, when prefix is not empty, a "mods"
// section holding a GRUB module area with an ELF module object per
// name of modules, then the prefix object.
func testPE(machine uint16, pkcs7 []byte, prefix string, modules ...string) []byte {
	le := binary.LittleEndian
	const peOff, optSize = 0x40, 112 + 16*8
	nsec := 0
	if prefix != "" {
		nsec = 1
	}
	b := make([]byte, peOff+4+20+optSize+40*nsec)
	copy(b, "MZ")
	le.PutUint32(b[0x3c:], peOff) // e_lfanew
	copy(b[peOff:], "PE\x00\x00")
	coff := b[peOff+4:]
	le.PutUint16(coff[0:], machine)          // Machine
	le.PutUint16(coff[2:], uint16(nsec))     // NumberOfSections
	le.PutUint16(coff[16:], uint16(optSize)) // SizeOfOptionalHeader
	opt := b[peOff+4+20:]
	le.PutUint16(opt[0:], 0x20b) // Magic: PE32+
	le.PutUint16(opt[68:], 10)   // Subsystem: EFI application
	le.PutUint32(opt[108:], 16)  // NumberOfRvaAndSizes
	if prefix != "" {
		// GRUB's module area: grub_module_info64 {magic, padding,
		// offset, size}, then objects {type, size, data}.
		var mods []byte
		mods = le.AppendUint32(mods, 0x676d696d) // "mimg"
		mods = le.AppendUint32(mods, 0)
		mods = le.AppendUint64(mods, 24)
		body := append([]byte(prefix), 0)
		for len(body)%8 != 0 {
			body = append(body, 0)
		}
		var objs []byte
		for _, m := range modules {
			elf := testModule(m)
			objs = le.AppendUint32(objs, 0) // OBJ_TYPE_ELF
			objs = le.AppendUint32(objs, uint32(8+len(elf)))
			objs = append(objs, elf...)
		}
		objs = le.AppendUint32(objs, 3) // OBJ_TYPE_PREFIX
		objs = le.AppendUint32(objs, uint32(8+len(body)))
		objs = append(objs, body...)
		mods = le.AppendUint64(mods, uint64(24+len(objs)))
		mods = append(mods, objs...)
		sec := b[peOff+4+20+optSize:]
		copy(sec, "mods")
		le.PutUint32(sec[16:], uint32(len(mods))) // SizeOfRawData
		le.PutUint32(sec[20:], uint32(len(b)))    // PointerToRawData
		b = append(b, mods...)
	}
	if pkcs7 != nil {
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
		cert := le.AppendUint32(nil, uint32(8+len(pkcs7))) // dwLength
		cert = le.AppendUint16(cert, 0x0200)               // wRevision
		cert = le.AppendUint16(cert, 0x0002)               // WIN_CERT_TYPE_PKCS_SIGNED_DATA
		cert = append(cert, pkcs7...)
		for len(cert)%8 != 0 {
			cert = append(cert, 0)
		}
		opt := b[peOff+4+20:]                            // b has grown
		le.PutUint32(opt[112+8*4:], uint32(len(b)))      // certificate table: file offset
		le.PutUint32(opt[112+8*4+4:], uint32(len(cert))) // and size
		b = append(b, cert...)
	}
	return b
}

// testModule returns a GRUB module as GRUB's build leaves it, reduced to
// what names it: an ELF64 header, a section name table and a .modname
// section holding name.
func testModule(name string) []byte {
	le := binary.LittleEndian
	strtab := []byte("\x00.shstrtab\x00.modname\x00")
	modname := append([]byte(name), 0)
	const shoff = 64
	b := make([]byte, 64+3*64)
	copy(b, "\x7fELF\x02\x01\x01") // ELFCLASS64, little-endian, version 1
	le.PutUint16(b[0x10:], 1)      // e_type: ET_REL
	le.PutUint16(b[0x12:], 62)     // e_machine: x86-64
	le.PutUint64(b[0x28:], shoff)  // e_shoff
	le.PutUint16(b[0x3a:], 64)     // e_shentsize
	le.PutUint16(b[0x3c:], 3)      // e_shnum: null, .shstrtab, .modname
	le.PutUint16(b[0x3e:], 1)      // e_shstrndx
	sh := func(i int, nameOff uint32, off, size int) {
		h := b[shoff+64*i:]
		le.PutUint32(h[0:], nameOff)        // sh_name
		le.PutUint32(h[4:], 3)              // sh_type: SHT_STRTAB (PROGBITS would do)
		le.PutUint64(h[0x18:], uint64(off)) // sh_offset
		le.PutUint64(h[0x20:], uint64(size))
	}
	sh(1, 1, len(b), len(strtab))
	sh(2, 11, len(b)+len(strtab), len(modname))
	b = append(b, strtab...)
	return append(b, modname...)
}

// testPKCS7 returns a PKCS#7 SignedData (RFC 2315 §9.1) without signer
// infos that carries a certificate for signer issued by a self-signed CA
// named issuer, the CA's certificate first.
func testPKCS7(t testing.TB, signer, issuer string) []byte {
	t.Helper()
	caPub, caKey, _ := ed25519.GenerateKey(rand.Reader)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: issuer},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, caPub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: signer},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, pub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	type contentInfo struct {
		ContentType asn1.ObjectIdentifier
	}
	sd := struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      contentInfo
		Certificates     asn1.RawValue
		SignerInfos      asn1.RawValue
	}{
		Version:          1,
		DigestAlgorithms: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true},
		ContentInfo:      contentInfo{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(caDER, leafDER...)},
		SignerInfos:      asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true},
	}
	sdDER, err := asn1.Marshal(sd)
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sdDER}})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParseEFIProgram(t *testing.T) {
	shimSig := testPKCS7(t, "Microsoft Windows UEFI Driver Publisher", "Microsoft Corporation UEFI CA 2011")
	grubSig := testPKCS7(t, "Debian Secure Boot Signer 2022 - grub2", "Debian Secure Boot CA")
	tests := []struct {
		name string
		data []byte
		want EFIProgram
		ms   bool
	}{
		{"unsigned", testPE(MachineX8664, nil, ""), EFIProgram{Machine: MachineX8664}, false},
		{"shim", testPE(MachineX8664, shimSig, ""), EFIProgram{Machine: MachineX8664, Signed: true,
			Signer: "Microsoft Windows UEFI Driver Publisher", Issuer: "Microsoft Corporation UEFI CA 2011"}, true},
		{"signed grub", testPE(MachineX8664, grubSig, "/debian-installer/amd64/grub", "efinet", "tftp"), EFIProgram{Machine: MachineX8664, Signed: true,
			Signer: "Debian Secure Boot Signer 2022 - grub2", Issuer: "Debian Secure Boot CA", GRUBPrefix: "/debian-installer/amd64/grub",
			GRUBModules: []string{"efinet", "tftp"}}, false},
		{"unsigned arm64 grub", testPE(MachineARM64, nil, "/grub"), EFIProgram{Machine: MachineARM64, GRUBPrefix: "/grub"}, false},
		{"undecodable signature", testPE(MachineX8664, []byte("not DER"), ""), EFIProgram{Machine: MachineX8664, Signed: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEFIProgram(bytes.NewReader(tt.data), int64(len(tt.data)))
			if err != nil {
				t.Fatalf("ParseEFIProgram: %v", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ParseEFIProgram: (-want +got)\n%s", d)
			}
			if got.MicrosoftUEFI() != tt.ms {
				t.Errorf("MicrosoftUEFI() = %v, want %v", got.MicrosoftUEFI(), tt.ms)
			}
		})
	}
}

func TestParseEFIProgramNotEFI(t *testing.T) {
	good := testPE(MachineX8664, nil, "/grub")
	badMagic := bytes.Clone(good)
	binary.LittleEndian.PutUint16(badMagic[0x40+24:], 0x107)
	for name, data := range map[string][]byte{
		"empty":        nil,
		"text":         []byte("#!ipxe\nchain http://example/\n" + string(make([]byte, 64))),
		"cut in COFF":  good[:0x48],
		"no PE":        append([]byte("MZ"), make([]byte, 200)...),
		"bad magic":    badMagic,
		"cut sections": good[:0x40+24+240+10],
	} {
		if _, err := ParseEFIProgram(bytes.NewReader(data), int64(len(data))); !errors.Is(err, ErrNotEFI) {
			t.Errorf("%s: ParseEFIProgram error = %v, want ErrNotEFI", name, err)
		}
	}
}

// TestParseEFIProgramDebian reads the boot programs of Debian's packages
// where they are installed: what the firmware and shim see in them.
func TestParseEFIProgramDebian(t *testing.T) {
	tests := []struct {
		file                 string
		signed, ms           bool
		signer, issuer, pref string
		tftp, http           bool // GRUB modules built in
	}{
		{"/usr/lib/shim/shimx64.efi.signed", true, true, "Microsoft Windows UEFI Driver Publisher", "Microsoft Corporation UEFI CA 2011", "", false, false},
		{"/usr/lib/shim/shimx64.efi", false, false, "", "", "", false, false},
		{"/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed", true, false, "", "Debian Secure Boot CA", "/grub", true, false},
		{"/usr/lib/grub/x86_64-efi-signed/grubnetx64-installer.efi.signed", true, false, "", "Debian Secure Boot CA", "/debian-installer/amd64/grub", true, false},
		{"/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed", true, false, "", "Debian Secure Boot CA", "/EFI/debian", false, false},
		{"/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/grubx64.efi", true, false, "", "Debian Secure Boot CA", "/debian-installer/amd64/grub", true, false},
		{"/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/linux", true, false, "", "Debian Secure Boot CA", "", false, false},
		{"/usr/lib/ipxe/ipxe.efi", false, false, "", "", "", false, false},
		{"/usr/lib/ipxe/snponly.efi", false, false, "", "", "", false, false},
		{"/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi", false, false, "", "", "", false, false},
	}
	for _, tt := range tests {
		f, err := os.Open(tt.file)
		if err != nil {
			t.Logf("skipped: %v", err)
			continue
		}
		st, _ := f.Stat()
		p, err := ParseEFIProgram(f, st.Size())
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if p.Machine != MachineX8664 || p.Signed != tt.signed || p.MicrosoftUEFI() != tt.ms || tt.signer != "" && p.Signer != tt.signer || p.Issuer != tt.issuer || p.GRUBPrefix != tt.pref || p.HasGRUBModule("tftp") != tt.tftp || p.HasGRUBModule("http") != tt.http {
			t.Errorf("%s: ParseEFIProgram = %+v (MicrosoftUEFI %v), want signed %v, MicrosoftUEFI %v, issuer %q, prefix %q", tt.file, p, p.MicrosoftUEFI(), tt.signed, tt.ms, tt.issuer, tt.pref)
		}
	}
}

func FuzzParseEFIProgram(f *testing.F) {
	f.Add(testPE(MachineX8664, nil, ""))
	f.Add(testPE(MachineARM64, nil, "/grub", "tftp", "http"))
	f.Add(testPE(MachineX8664, testPKCS7(f, "Microsoft Windows UEFI Driver Publisher", "Microsoft Corporation UEFI CA 2011"), "/debian-installer/amd64/grub"))
	f.Add([]byte("MZ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseEFIProgram(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		// Parsing is a function of the bytes.
		q, err := ParseEFIProgram(bytes.NewReader(data), int64(len(data)))
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("second parse = %+v, %v; first %+v", q, err, p)
		}
		if !p.Signed && (p.Signer != "" || p.Issuer != "") {
			t.Fatalf("unsigned program with signer %q issuer %q", p.Signer, p.Issuer)
		}
		if len(p.GRUBModules) > maxGRUBObjects || len(p.GRUBPrefix) > maxGRUBPrefix {
			t.Fatalf("prefix of %d bytes", len(p.GRUBPrefix))
		}
	})
}
