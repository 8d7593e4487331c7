# The image decoders of ck::data::ImageFolder: libpng (PNG::PNG), libjpeg-turbo
# (JPEG::JPEG) and stb_image for BMP (the imported target convkit::stb). Debian and Ubuntu
# package them as libpng-dev, libjpeg-dev (libjpeg-turbo) and libstb-dev.
set(_convkit_codec_hint "`sudo apt-get install libpng-dev libjpeg-dev libstb-dev` on Debian and Ubuntu")
find_package(PNG QUIET)
if(NOT PNG_FOUND)
  message(FATAL_ERROR "convkit: libpng not found (needed to read PNG images): " ${_convkit_codec_hint})
endif()
find_package(JPEG QUIET)
if(NOT JPEG_FOUND)
  message(FATAL_ERROR "convkit: libjpeg not found (needed to read JPEG images): " ${_convkit_codec_hint})
endif()
if(NOT TARGET convkit::stb)
  find_path(CONVKIT_STB_INCLUDE_DIR stb/stb_image.h)
  find_library(CONVKIT_STB_LIBRARY stb)
  if(NOT CONVKIT_STB_INCLUDE_DIR OR NOT CONVKIT_STB_LIBRARY)
    message(FATAL_ERROR "convkit: stb_image not found (needed to read BMP images): " ${_convkit_codec_hint})
  endif()
  add_library(convkit::stb UNKNOWN IMPORTED)
  set_target_properties(convkit::stb PROPERTIES IMPORTED_LOCATION "${CONVKIT_STB_LIBRARY}"
                                                 INTERFACE_INCLUDE_DIRECTORIES "${CONVKIT_STB_INCLUDE_DIR}")
endif()
