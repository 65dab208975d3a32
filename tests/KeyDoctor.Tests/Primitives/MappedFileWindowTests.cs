using System.IO.MemoryMappedFiles;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Tests.Primitives;

public class MappedFileWindowTests
{
    [Fact]
    public void ReadsGiveTheFilesBytesAcrossViewsOfAnySize()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kd-mapped-{Guid.NewGuid():N}.bin");
        try
        {
            var bytes = new byte[300_000];
            new Random(24).NextBytes(bytes);
            File.WriteAllBytes(path, bytes);
            using var stream = File.OpenRead(path);
            using var mapping = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            using var window = new MappedFileWindow(mapping, bytes.Length, viewSize: 10_000);
            var random = new Random(7);
            for (var i = 0; i < 2000; i++)
            {
                // Unaligned offsets, reads across a view's end, larger than a view, and at the file's last byte.
                var offset = i % 10 == 0 ? bytes.Length - 1 : random.Next(bytes.Length);
                var count = Math.Min(bytes.Length - offset, i % 7 == 0 ? random.Next(30_000) : random.Next(600));
                Assert.True(window.Read(offset, count).SequenceEqual(bytes.AsSpan(offset, count)), $"bytes 0x{offset:X}+{count}");
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => window.Read(bytes.Length - 4, 5).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
