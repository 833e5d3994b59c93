package main

import (
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/passerelle-social/passerelle/fixtures"
)

// BenchmarkInspectPeakRSS runs the real binary's `archive inspect --json` on
// an archive the size of a popular account's: 1.2M followers (in two parts)
// and 1 GiB of media. Reported: the child process's peak resident memory
// (target: under 100 MiB) and its wall time.
func BenchmarkInspectPeakRSS(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "passerelle")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	archive := filepath.Join(dir, "twitter-2024-11-16-big.zip")
	if _, err := fixtures.WriteArchive(archive, fixtures.ArchiveOptions{
		Seed: 7, Account: 1, Following: 2_000, Followers: 1_200_000, Blocks: 50, Mutes: 20,
		Variant: "parts", PartSize: 700_000, MediaBytes: 1 << 30,
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "archive", "inspect", "--json", archive)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("inspect: %v\n%s", err, out)
		}
		wall := time.Since(start)
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB") // Maxrss is in KiB on Linux
		b.ReportMetric(wall.Seconds(), "wall-s")
	}
}
