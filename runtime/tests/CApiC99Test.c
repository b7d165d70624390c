/* CApiC99Test.c - checks that winnow_runtime.h (and winnow_dlpack.h when
 * DLPack is installed) compiles as C99 and that the basic status flow works
 * from C. ctest points WINNOW_CUDA_DRIVER at a missing library. */
#include "winnow/runtime/cuda_host_abi.h"
#include "winnow/runtime/winnow_runtime.h"
#if defined(__has_include)
#if __has_include(<dlpack/dlpack.h>)
#include "winnow/runtime/winnow_dlpack.h"
#endif
#endif

#include <stdio.h>
#include <string.h>

int main(void) {
  winnow_device *device = NULL;
  winnow_device_info info;
  winnow_status status = winnow_device_create("cuda:0", &device);
  winnow_status_code_t code = winnow_status_code(status);
  /* UNAVAILABLE without a driver; UNIMPLEMENTED in a build without cuda.h. */
  if (!((code == WINNOW_STATUS_UNAVAILABLE &&
         strstr(winnow_status_message(status), "no CUDA driver: ") != NULL) ||
        (code == WINNOW_STATUS_UNIMPLEMENTED &&
         strstr(winnow_status_message(status), "CUDA") != NULL))) {
    fprintf(stderr, "unexpected status %s: %s\n",
            winnow_status_code_name(code), winnow_status_message(status));
    return 1;
  }
  winnow_status_free(status);
  status = winnow_device_create("cpu", &device);
  if (status != WINNOW_OK)
    return 1;
  status = winnow_device_get_info(device, &info);
  if (status != WINNOW_OK || info.kind != WINNOW_DEVICE_KIND_CPU ||
      info.ordinal != -1)
    return 1;
  winnow_device_release(device);
  return WINNOW_CUDA_SLOT_COUNT > 0 ? 0 : 1;
}
