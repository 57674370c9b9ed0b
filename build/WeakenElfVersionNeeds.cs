using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Compiled by RoslynCodeTaskFactory against netstandard2.0, hence no spans or File.Move overwrite.
// Marks chosen version needs (Elf64_Vernaux entries) as VER_FLG_WEAK, only for versions the system libstdc++ lacks.
public class WeakenElfVersionNeeds : Task
{
    [Required] public ITaskItem[] Files { get; set; }
    [Required] public string Versions { get; set; }

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    static readonly string[] LibStdCxxCandidates =
    {
        "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
    };

    public override bool Execute()
    {
        var systemLib = LibStdCxxCandidates.FirstOrDefault(File.Exists);
        if (systemLib == null)
        {
            Log.LogMessage(MessageImportance.Normal, "Qdm: no system libstdc++.so.6 found; TorchSharp glue left as shipped.");
            return true;
        }
        var systemBytes = File.ReadAllBytes(systemLib);
        var missing = Versions.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries)
            .Select(v => v.Trim())
            .Where(v => IndexOf(systemBytes, Encoding.ASCII.GetBytes(v + "\0")) < 0)
            .ToArray();
        if (missing.Length == 0) return true;

        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            var bytes = File.ReadAllBytes(path);
            int changed = WeakenNeeds(bytes, missing, out string error);
            if (error != null) { Log.LogWarning("Qdm: {0}: {1}", path, error); continue; }
            if (changed == 0) continue;
            var temp = path + ".qdm-tmp";
            File.WriteAllBytes(temp, bytes);
            File.Delete(path);             // a new inode: never writes through a hard link into the NuGet cache
            File.Move(temp, path);
            Log.LogMessage(MessageImportance.High, "Qdm: marked {0} weak in {1} (system {2} lacks it)",
                string.Join(", ", missing), path, systemLib);
        }
        return !Log.HasLoggedErrors;
    }

    // Returns how many Vernaux flags were changed; walks .gnu.version_r as laid out in the ELF64 gABI.
    static int WeakenNeeds(byte[] elf, string[] names, out string error)
    {
        error = null;
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        { error = "not an ELF file"; return 0; }
        if (elf[4] != 2 || elf[5] != 1) { error = "only little-endian ELF64 is handled"; return 0; }

        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        long Section(int i) => shoff + (long)i * shentsize;

        for (int s = 0; s < shnum; s++)
        {
            long sh = Section(s);
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = (long)BitConverter.ToUInt64(elf, (int)sh + 24);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 40);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 44);
            long strtab = (long)BitConverter.ToUInt64(elf, (int)Section(link) + 24);

            int changed = 0;
            long vn = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(elf, (int)vn + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    long nameOffset = strtab + BitConverter.ToUInt32(elf, (int)aux + 8);
                    string name = ReadCString(elf, (int)nameOffset);
                    ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                    if (Array.IndexOf(names, name) >= 0 && (flags & VerFlgWeak) == 0)
                    {
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, (int)aux + 4);
                        changed++;
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                vn += BitConverter.ToUInt32(elf, (int)vn + 12);
            }
            return changed;
        }
        return 0;
    }

    static string ReadCString(byte[] data, int start)
    {
        int end = Array.IndexOf(data, (byte)0, start);
        return Encoding.ASCII.GetString(data, start, end - start);
    }

    static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }
}
