//go:build !linux

package main

import "time"

func selfCPU() time.Duration { return 0 }

func machineCPU() (busy, total time.Duration, ok bool) { return 0, 0, false }
