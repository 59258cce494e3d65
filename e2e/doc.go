// Package e2e holds pxekit's end-to-end tests: real firmware (QEMU's iPXE
// ROM, OVMF, AAVMF) boots a real Linux kernel over the network from the
// examples/minimal-server binary, inside a network namespace the test makes,
// and a path passes only when a marker printed by the test's own initrd
// appears on the virtual machine's serial console.
//
// Most boots are rows of one table, bootPaths in paths_test.go, run by
// TestBootPaths (one subtest per row, named by it: bios-pxelinux,
// uefi-pxe-grub, arm64-http-grub, secureboot-http-iso, ipv6-pxe-grub…).
// A row names the firmware (BIOS with QEMU's iPXE ROM, OVMF by PXE or
// HTTP, with Secure Boot or over IPv6 only, AAVMF on the aarch64 virt
// machine by PXE or, with PXE off through fw_cfg, by UEFI HTTP boot),
// what the server serves and with which flags, what the console must
// show and the timeline steps the machine must reach; one runner does
// the rest, and a row's check adds what is its own (metrics, the page in
// Chromium, TFTP options, a stall report). Tests whose body is not one
// such boot (a server restart between two boots, the dual-stack
// boot-once count, the emulator beside QEMU, dnsmasq alone as
// reference, the family images) stay tests of their own.
//
// Besides the marker, the boot tests check what the server saw through its
// events rather than its log text: the machine's timeline in the
// server's /_pxekit/status.json (DHCP, boot program, menu, kernel, initrd,
// each by the expected protocol and file, and the last transfers with
// their outcome, status and TFTP options), its start-up notes (what it
// serves, its warnings: l.requireNote), /_pxekit/metrics parsed
// strictly, and (TestBootPaths/bios-ipxe-script-http) the status page
// as headless Chromium renders it, with a screenshot as test artifact (go test -artifacts).
// A test whose server runs with -http "" gets the status pages with
// -status :8080. Log text is checked nowhere but for the wait for the
// server's "ready" line (its readiness signal, as a port would be);
// dnsmasq, the reference peer, is checked through its lease file.
//
// The package has no code for library users; everything is in _test.go
// files. The tests need root, QEMU and the Debian packages that .ci/run
// installs; they skip without them on a developer's machine and fail in CI.
//
// The family tests (family_test.go) go one step further, to the root file
// system: images laid out as each distribution family's (Debian Live,
// casper, anaconda, Fedora Live, archiso, openSUSE, Alpine), made with
// xorriso at test time and carrying the family's own local kernel line,
// boot a test initrd that brings the NIC up with the Debian kernel's own
// modules, reads the kernel line as that family's initramfs does, downloads
// what it names over HTTP and prints its SHA-256, which must be that of the
// file in the image.
//
// The same harness boots against dnsmasq as a reference server, which
// bench/boot.sh uses to compare boot times. TestDebianLiveISO (opt-in, with
// PXEKIT_E2E_LIVE_ISO) boots a real Debian Live image to its login prompt,
// and bench/live.sh times it against a loop-mounted image.
//
// The IPv6 boots (the ipv6-* rows and ipv6_test.go, issue 16) boot on a segment whose bridge
// has no IPv4 address at all (2001:db8:99::1/64), so a marker proves a boot
// over IPv6 from the first DHCPv6 message on: OVMF with IPv4 PXE and HTTP
// off through fw_cfg by PXEv6 into GRUB, by HTTPv6, and a dual-stack
// segment where the machine must boot once, against minimal-server
// -ipv6 stateful (and stateless for dual stack); ipv6-bios-ipxe boots
// QEMU's iPXE ROM there, and TestIPv6Lab checks TFTP over IPv6.
//
// The Secure Boot tests (the secureboot-* rows, secureboot_test.go,
// secureboot_http_test.go, issue 19) boot OVMF with Secure Boot enforcing and Microsoft's keys
// through Debian's signed shim, signed GRUB and signed kernel, by PXE and
// by UEFI HTTP boot, from a tree and from an ISO; HTTP boot needs Debian
// 13's signed GRUB, which .ci/trixie-grub fetches into
// /var/cache/pxekit/trixie-grub (or $PXEKIT_TRIXIE_GRUB_DIR). The
// negative boots an unsigned iPXE, which the firmware refuses, and reads
// the stall report from status.json.
package e2e
