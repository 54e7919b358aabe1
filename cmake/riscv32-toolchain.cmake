# riscv32-toolchain.cmake - cross-compiling the firmware (firmware/) for
# QEMU's RISC-V virt board: rv32imac/ilp32, the multilib of Debian's
# gcc-riscv64-unknown-elf closest to the ESP32-C3's RV32IMC, on picolibc.
# Used as: cmake -S firmware -B build/firmware -DCMAKE_TOOLCHAIN_FILE=<this>
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)

set(COAPS_RISCV_PREFIX riscv64-unknown-elf- CACHE STRING "Cross tool prefix")
set(CMAKE_C_COMPILER ${COAPS_RISCV_PREFIX}gcc)
set(CMAKE_ASM_COMPILER ${COAPS_RISCV_PREFIX}gcc)
set(CMAKE_AR ${COAPS_RISCV_PREFIX}ar)
set(CMAKE_RANLIB ${COAPS_RISCV_PREFIX}ranlib)
set(CMAKE_OBJCOPY ${COAPS_RISCV_PREFIX}objcopy)
set(CMAKE_SIZE ${COAPS_RISCV_PREFIX}size)

# -march names no Zicsr so that gcc picks the rv32imac/ilp32 multilib; CSR
# instructions enable it locally (.option arch, +zicsr).
set(COAPS_RISCV_ARCH_FLAGS "-march=rv32imac -mabi=ilp32 -mcmodel=medany --specs=picolibc.specs")
set(CMAKE_C_FLAGS_INIT "${COAPS_RISCV_ARCH_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "${COAPS_RISCV_ARCH_FLAGS}")
# CMake links with the C flags too, so the specs are not repeated here.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles")

# Compiler checks cannot run a bare-metal program: test a static library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
