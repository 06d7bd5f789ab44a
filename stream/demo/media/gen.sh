#!/bin/sh
# gen.sh regenerates the demo test card (card.ivf) and tone (tone.ogg).
# Run it as "sh media/gen.sh" or "go generate ./stream/demo/"; it writes
# next to itself. With -bitexact the output is byte-for-byte reproducible
# for a given ffmpeg build (these were made with ffmpeg 5.1.9, Debian 12).
# Needs ffmpeg built with libvpx, libopus and libfreetype (drawtext).
set -eu
cd "$(dirname "$0")"

# Loop length in seconds. Must be a whole number of 20 ms audio frames and
# of 1/30 s video frames; demo.New checks both and the keyframe layout.
DUR=5
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf

# Video: 640x360, 30 fps, VP8, keyframe exactly every 30 frames (1 s),
# no alt-ref (every frame is shown), no lookahead, error resilient.
# A white box flashes at the same moments as the audio beeps (0.05-0.25 s
# of every second) so lip-sync can be checked by eye.
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=30:duration=${DUR}" \
  -vf "drawbox=x=520:y=20:w=100:h=100:color=white:t=fill:enable='between(mod(t\,1)\,0.05\,0.25)',\
drawtext=fontfile=${FONT}:text='govlive demo':fontsize=40:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=10:x=(w-text_w)/2:y=h-110,\
drawtext=fontfile=${FONT}:text='%{pts\:hms}':fontsize=28:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=(w-text_w)/2:y=h-50" \
  -frames:v $((DUR * 30)) -pix_fmt yuv420p \
  -c:v libvpx -deadline realtime -cpu-used 4 -lag-in-frames 0 -auto-alt-ref 0 \
  -error-resilient 1 -g 30 -keyint_min 30 \
  -b:v 450k -maxrate 450k -minrate 450k -bufsize 900k \
  -fflags +bitexact -f ivf card.ivf

# Audio: 48 kHz mono Opus, 20 ms frames, one packet per Ogg page.
# A soft 200 ms beep at 0.05 s of every second (880 Hz on the first second
# of the loop, 440 Hz on the others) with a sin^2 envelope; silence at the
# loop point, so the seam is inaudible.
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "aevalsrc=exprs='0.35*if(between(mod(t\,1)\,0.05\,0.25)\,sin(PI*(mod(t\,1)-0.05)/0.2)^2\,0)*sin(2*PI*if(lt(t\,1)\,880\,440)*t)':s=48000:d=${DUR}" \
  -ac 1 -c:a libopus -b:a 32k -vbr on -application audio -frame_duration 20 \
  -page_duration 20000 \
  -fflags +bitexact -flags:a +bitexact -f ogg tone.ogg
