# stb_image, the image decoder of ck::data::ImageFolder: the imported target convkit::stb.
# Debian and Ubuntu package it as libstb-dev (headers in stb/, the compiled library libstb).
if(NOT TARGET convkit::stb)
  find_path(CONVKIT_STB_INCLUDE_DIR stb/stb_image.h)
  find_library(CONVKIT_STB_LIBRARY stb)
  if(NOT CONVKIT_STB_INCLUDE_DIR OR NOT CONVKIT_STB_LIBRARY)
    message(FATAL_ERROR "convkit: stb_image not found (needed to read PNG, JPEG and BMP images): "
                        "`sudo apt-get install libstb-dev` on Debian and Ubuntu")
  endif()
  add_library(convkit::stb UNKNOWN IMPORTED)
  set_target_properties(convkit::stb PROPERTIES IMPORTED_LOCATION "${CONVKIT_STB_LIBRARY}"
                                                 INTERFACE_INCLUDE_DIRECTORIES "${CONVKIT_STB_INCLUDE_DIR}")
endif()
