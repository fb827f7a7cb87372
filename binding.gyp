{
  # Exception mode: C++ exceptions are ON (NAPI_CPP_EXCEPTIONS). The sampler uses the
  # standard library (std::thread, std::string, containers) whose failures are exceptions;
  # node-addon-api turns an exception escaping a binding method into a JavaScript Error
  # instead of aborting the process. The sampling thread catches everything itself: no
  # exception crosses a thread boundary or reaches Node-API off the JavaScript thread.
  "variables": { "openssl_fips": "" },
  "targets": [
    {
      "target_name": "let_sampler",
      "sources": [
        "native/addon.cpp",
        "native/accumulator.cpp",
        "native/attribution.cpp",
        "native/load_model.cpp",
        "native/sampler.cpp",
        "native/lock_binding.cpp"
      ],
      # Version of the native code, from package.json at build time (exports.version).
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: when a worker is terminated, Node-API calls fail
      # with a pending termination that cannot be thrown; swallow it instead of aborting.
      "defines": ["NAPI_VERSION=9", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED",
                  "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
                  "LET_VERSION=<!(node -p \"require('./package.json').version\")"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fvisibility=hidden", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", {
          "sources": [
            "native/linux/fsutil.cpp",
            "native/linux/powercap.cpp",
            "native/linux/msr.cpp",
            "native/linux/nvml.cpp",
            "native/linux/nvml_select.cpp",
            "native/linux/nvml_counters.cpp",
            "native/linux/procstat.cpp",
            "native/linux/meminfo.cpp",
            "native/linux/discovery.cpp",
            "native/linux/glibc_compat.cpp",
            "native/linux/file_lock.cpp",
            "native/linux/signal_watchdog.cpp"
          ],
          # libstdc++ is linked statically (no dependency on the build machine's C++ runtime);
          # libgcc_s stays dynamic: its static unwinder would need glibc 2.35's _dl_find_object,
          # while libgcc_s.so.1 (GCC_4.2 symbols) is on every Linux system Node runs on.
          # glibc_compat.cpp removes the one glibc 2.36 reference: the floor is glibc 2.34
          # (scripts/glibc-floor.sh measures it).
          "libraries": ["-ldl", "-static-libstdc++"]
        }, {
          "sources": ["native/stub/discovery_stub.cpp", "native/stub/file_lock_stub.cpp", "native/stub/signal_watchdog_stub.cpp"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LIBRARY": "libc++",
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
            "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-fvisibility=hidden"]
          }
        }],
        ["OS=='win'", {
          "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
        }]
      ]
    }
  ],
  "conditions": [
    ["OS=='linux'", {
      "targets": [
        {
          # `run` spawns commands through this helper (PR_SET_PDEATHSIG, then exec): a command
          # dies with `run` even when `run` is killed with SIGKILL. See native/linux/let_exec.c.
          "target_name": "let_exec",
          "type": "executable",
          "sources": ["native/linux/let_exec.c"],
          "cflags": ["-Wall", "-Wextra", "-O2"]
        }
      ]
    }]
  ]
}
