#!/usr/bin/env node
import { launch } from './launch.js';
import { main } from '../dist/tools/devcloud/cli.js';

launch(main);
