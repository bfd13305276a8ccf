# Sourced by the deploy/gpu scripts on the GPU machine, after they set $DEBS, $O (output folder)
# and $L (log folder): unpacks the Debian .debs in $DEBS into $prefix (/opt/hnet-deps) and
# exports what a build and its programs need there (PATH, LD_LIBRARY_PATH, pkg-config confined
# to the prefix). Defines gpu_build. Prints the GPU and torch versions.
prefix=${HNET_DEPS_PREFIX:-/opt/hnet-deps}
mkdir -p $prefix
for f in "$DEBS"/*.deb; do dpkg -x "$f" $prefix; done
export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu
export PATH=$prefix/usr/bin:$PATH
# The .pc files say prefix=/usr; the sysroot maps their -I and -L into the unpacked tree.
export PKG_CONFIG_SYSROOT_DIR=$prefix
export PKG_CONFIG_LIBDIR=$prefix/usr/lib/x86_64-linux-gnu/pkgconfig:$prefix/usr/share/pkgconfig
PY=${PY:-python3}
tp=${TORCH_PREFIX:-$($PY -c 'import torch;print(torch.utils.cmake_prefix_path)')}
tdir=$($PY -c 'import torch,os;print(os.path.dirname(torch.__file__))')
export LD_LIBRARY_PATH=$tdir/lib:$LD_LIBRARY_PATH
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 |
  tee -a "$O/run.log"
$PY -c 'import torch;print("torch",torch.__version__,"cuda",torch.version.cuda)' | tee -a "$O/run.log"

# gpu_build DIR "TARGETS" [CMAKE_ARGS...]: configures DIR against torch and the prefix, builds
# TARGETS; on failure prints the first errors and returns 1. Logs: $L/DIR-{configure,build}.log.
# -I: pip's torch/include ships its own google/protobuf and fmt headers, which must not shadow
# the Debian ones (-I is searched before the -isystem of imported targets).
# -lprotobuf last: torch's CMake config can define protobuf::libprotobuf as an empty target;
# proto/CMakeLists.txt links ${Protobuf_LIBRARIES} as well, the flag is a second guard.
gpu_build() {
  local dir=$1 targets=$2
  shift 2
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS="-I$prefix/usr/include" \
    -DCMAKE_CXX_STANDARD_LIBRARIES="-L$prefix/usr/lib/x86_64-linux-gnu -lprotobuf" \
    -DCMAKE_PREFIX_PATH="$tp;$prefix/usr" -DProtobuf_PROTOC_EXECUTABLE=$prefix/usr/bin/protoc \
    -DTORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}" "$@" >"$L/$dir-configure.log" 2>&1 ||
    { tail -40 "$L/$dir-configure.log"; return 1; }
  cmake --build "$dir" -j"$(nproc)" --target $targets >"$L/$dir-build.log" 2>&1 ||
    { grep -m12 -A6 "error" "$L/$dir-build.log"; return 1; }
}
