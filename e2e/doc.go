// Package e2e holds pxekit's end-to-end tests: real firmware (QEMU's iPXE
// ROM, OVMF, AAVMF) boots a real Linux kernel over the network from the
// examples/minimal-server binary, inside a network namespace the test makes,
// and a path passes only when a marker printed by the test's own initrd
// appears on the virtual machine's serial console.
//
// The package has no code for library users; everything is in _test.go
// files. The tests need root, QEMU and the Debian packages that .ci/run
// installs; they skip without them on a developer's machine and fail in CI.
//
// The same harness boots against dnsmasq as a reference server, which
// bench/boot.sh uses to compare boot times. TestDebianLiveISO (opt-in, with
// PXEKIT_E2E_LIVE_ISO) boots a real Debian Live image to its login prompt,
// and bench/live.sh times it against a loop-mounted image.
package e2e
