using System.Diagnostics;
using System.Globalization;

namespace Mrl.Bench;

/// <summary>
/// A cgroup v1 memory group around a PostgreSQL server on this machine: its postmaster and every process it has forked are
/// moved in (later backends are forked into it), the page cache is dropped so that the table's and indexes' pages are
/// charged to the group as they are read again, and <see cref="Set"/> changes the limit between measurements. The limit
/// counts the server's processes' memory, its shared memory and the page cache it reads through. Disposing moves the
/// processes back to the root group and removes the group.
/// </summary>
internal sealed class DatabaseMemoryLimit : IDisposable
{
    /// <summary>Where the cgroup v1 memory controller is mounted on Linux.</summary>
    public const string Root = "/sys/fs/cgroup/memory";

    private readonly string _group;
    private long _current = -1;

    private DatabaseMemoryLimit(string group) => _group = group;

    /// <summary>The limit now in force, bytes.</summary>
    public long Current => _current;

    /// <summary>
    /// Moves the server whose backend <paramref name="backendPid"/> is into a new memory group limited to
    /// <paramref name="limitBytes"/>. <paramref name="sharedMemoryBytes"/> is the server's shared_buffers, which cannot be
    /// reclaimed under the limit (no swap): it must leave room for the page cache and the backends.
    /// </summary>
    /// <exception cref="InvalidOperationException">The controller is not there or not writable, or the limit cannot hold the server.</exception>
    public static DatabaseMemoryLimit Create(int backendPid, long limitBytes, long sharedMemoryBytes)
    {
        Check(limitBytes, sharedMemoryBytes);
        var postmaster = ParentOf(backendPid);
        var group = Path.Combine(Root, "mrl_bench_db");
        try
        {
            if (Directory.Exists(group))
            {
                // Left by a run that did not end cleanly: empty it first.
                MoveAll(ReadProcs(group), Root);
                Directory.Delete(group);
            }

            Directory.CreateDirectory(group);
            var limit = new DatabaseMemoryLimit(group);
            MoveChargesWhereSupported(group);
            limit.Set(limitBytes);
            MoveAll([postmaster, .. ChildrenOf(postmaster)], group);
            DropPageCache();
            return limit;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new InvalidOperationException($"--db-memory-limit: cannot set up the memory group {group} ({e.Message}); it needs root on the server's machine.", e);
        }
    }

    /// <summary>Throws, saying why, when a group of <paramref name="limitBytes"/> cannot be made here or cannot hold the server.</summary>
    public static void Check(long limitBytes, long sharedMemoryBytes)
    {
        if (!File.Exists(Path.Combine(Root, "memory.limit_in_bytes")))
        {
            throw new InvalidOperationException(
                $"--db-memory-limit needs the cgroup v1 memory controller at {Root} (Linux); this machine has none there. Run without --db-memory-limit.");
        }

        if (sharedMemoryBytes * 2 > limitBytes)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The server's shared_buffers ({Bytes(sharedMemoryBytes)}) is more than half of --db-memory-limit ({Bytes(limitBytes)}): shared memory cannot be reclaimed under the limit, so the server would be killed. Restart it with a smaller shared_buffers (e.g. -c shared_buffers=512MB) or raise the limit."));
        }
    }

    /// <summary>Sets the limit; lowering it makes the kernel reclaim the group's page cache down to it.</summary>
    public void Set(long bytes)
    {
        if (bytes == _current)
        {
            return;
        }

        File.WriteAllText(Path.Combine(_group, "memory.limit_in_bytes"), bytes.ToString(CultureInfo.InvariantCulture));
        _current = bytes;
    }

    public void Dispose()
    {
        try
        {
            MoveAll(ReadProcs(_group), Root);
            Directory.Delete(_group);
        }
        catch (IOException)
        {
            // A process that exits while being moved leaves the group busy for a moment; the next run empties it.
        }
    }

    /// <summary>Formats a byte count as the report does.</summary>
    public static string Bytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:0.##} GiB");

    private static int ParentOf(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status"))
        {
            if (line.StartsWith("PPid:", StringComparison.Ordinal))
            {
                return int.Parse(line.AsSpan(5).Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"Cannot read the parent of server process {pid}.");
    }

    private static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                int? ppid = null;
                try
                {
                    ppid = ParentOf(pid);
                }
                catch (IOException)
                {
                    // Exited while the list was read.
                }
                catch (UnauthorizedAccessException)
                {
                }

                if (ppid == parent)
                {
                    yield return pid;
                }
            }
        }
    }

    private static int[] ReadProcs(string group) =>
        [.. File.ReadAllLines(Path.Combine(group, "cgroup.procs")).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture))];

    private static void MoveAll(IEnumerable<int> pids, string group)
    {
        foreach (var pid in pids)
        {
            try
            {
                File.WriteAllText(Path.Combine(group, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
            }
            catch (IOException) when (!Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}"))
            {
                // Exited in the meantime.
            }
        }
    }

    // Charges of the pages a process has touched move with it where the kernel still supports it (newer kernels refuse it); where
    // not, what the server touched before the move (part of shared_buffers) stays charged outside the group.
    private static void MoveChargesWhereSupported(string group)
    {
        try
        {
            File.WriteAllText(Path.Combine(group, "memory.move_charge_at_immigrate"), "3");
        }
        catch (IOException)
        {
        }
    }

    // Clean pages only: what the server reads next is read again and charged to the group.
    private static void DropPageCache()
    {
        using (var sync = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false }))
        {
            sync?.WaitForExit();
        }

        File.WriteAllText("/proc/sys/vm/drop_caches", "1");
    }
}
