"""Opens a `qdm export`ed ONNX file in Python ONNX Runtime as Qdm opens it: with the session config in its metadata."""
import onnx
import onnxruntime as ort


def cpu_has_vnni() -> bool:
    """VNNI flags of an x64 Linux CPU (False where /proc/cpuinfo is missing: the safe list for int8 kernels)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_vnni" in flags or "avx_vnni" in flags


def session(path: str, threads: int) -> tuple[ort.InferenceSession, dict]:
    """The session and the file's qdm.* metadata; the config list is chosen for this CPU (README: qdm export)."""
    meta = {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}
    key = "qdm.ort_session_config" if cpu_has_vnni() else "qdm.ort_session_config_without_vnni"
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    for entry in filter(None, meta.get(key, "").split(";")):
        name, value = entry.split("=", 1)
        options.add_session_config_entry(name, value)
    meta["session_config_used"] = f"{key}: {meta.get(key, '')}"
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"]), meta
