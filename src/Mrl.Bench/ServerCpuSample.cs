using System.Globalization;

namespace Mrl.Bench;

/// <summary>
/// The CPU time (user + system) each server process had used when sampled, keyed by process id. Read from
/// <c>/proc/&lt;pid&gt;/schedstat</c> (nanoseconds on the CPU) where the kernel has it, else from the utime and stime of
/// <c>/proc/&lt;pid&gt;/stat</c> (clock ticks of 10 ms): so only for a server on this machine, in this process namespace.
/// </summary>
internal sealed record ServerCpuSample(IReadOnlyDictionary<int, long> Nanoseconds)
{
    // USER_HZ, the unit of utime and stime in /proc/<pid>/stat, is 100 on every Linux architecture .NET runs on.
    private const long NanosecondsPerTick = 10_000_000;

    /// <summary>
    /// The CPU the processes used between two samples, ms. A process that appears only in <paramref name="after"/> started in
    /// between and counts whole; one that is gone from <paramref name="after"/> is lost, since its last figures cannot be read.
    /// </summary>
    public static double MillisecondsBetween(ServerCpuSample before, ServerCpuSample after) =>
        after.Nanoseconds.Sum(p => Math.Max(0, p.Value - before.Nanoseconds.GetValueOrDefault(p.Key))) / 1e6;

    /// <summary>Samples <paramref name="pids"/>; a process that has exited in the meantime is left out.</summary>
    public static ServerCpuSample Read(IEnumerable<int> pids)
    {
        var sample = new Dictionary<int, long>();
        foreach (var pid in pids)
        {
            if (ReadProcess(pid) is { } nanoseconds)
            {
                sample[pid] = nanoseconds;
            }
        }

        return new ServerCpuSample(sample);
    }

    /// <summary>Whether <paramref name="pid"/> is a PostgreSQL process this machine can read the CPU time of.</summary>
    public static bool IsReadablePostgres(int pid)
    {
        try
        {
            var comm = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/comm").Trim();
            return comm is "postgres" or "postmaster" && ReadProcess(pid) is not null;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The process's CPU time in nanoseconds; null when it cannot be read (gone, or no /proc).</summary>
    public static long? ReadProcess(int pid)
    {
        var directory = "/proc/" + pid.ToString(CultureInfo.InvariantCulture);
        try
        {
            var schedstat = directory + "/schedstat";
            if (File.Exists(schedstat))
            {
                var first = File.ReadAllText(schedstat).Split(' ', 2)[0];
                if (long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var onCpu))
                {
                    return onCpu;
                }
            }

            // The command name in parentheses may hold spaces: the fields are counted from after its closing parenthesis.
            var stat = File.ReadAllText(directory + "/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * NanosecondsPerTick;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
